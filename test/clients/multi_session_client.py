# The Python client of ../../../shared/spec/multi-session-api-reference.md ("SDK Examples"), the class
# copied as written. The usage below is the reference's, with the base URL given by the test (argv[1]),
# and one step added that a person does by hand: scanning the QR code (here the sandbox's scan route)
# and waiting until the session is ready. It prints the three answers as JSON for the test to check.
import sys
import time

import requests
import json

class MultiSessionClient:
    def __init__(self, base_url="http://localhost:8080"):
        self.base_url = f"{base_url}/api/v1"
    
    def create_session(self, session_id, config=None):
        if config is None:
            config = {"multiDevice": True, "headless": True}
        
        response = requests.post(f"{self.base_url}/sessions", json={
            "sessionId": session_id,
            "waitForQR": True,
            "config": config
        })
        return response.json()
    
    def send_message(self, session_id, chat_id, content):
        response = requests.post(f"{self.base_url}/sessions/{session_id}/send-text", json={
            "chatId": chat_id,
            "content": content
        })
        return response.json()
    
    def get_chats(self, session_id):
        response = requests.get(f"{self.base_url}/sessions/{session_id}/chats")
        return response.json()


def scan_and_wait_ready(base_url, session_id):
    """The step a person does with a phone: scan the QR, then the session becomes ready."""
    requests.post(f"{base_url}/api/v1/sessions/{session_id}/sandbox/scan")
    for _ in range(250):
        status = requests.get(f"{base_url}/api/v1/sessions/{session_id}/status").json()
        if status.get("data", {}).get("status") == "ready":
            return
        time.sleep(0.02)
    raise RuntimeError(f"{session_id} did not become ready")


# Usage
base_url = sys.argv[1] if len(sys.argv) > 1 else "http://localhost:8080"
client = MultiSessionClient(base_url)
created = client.create_session("my-bot")
scan_and_wait_ready(base_url, "my-bot")
sent = client.send_message("my-bot", "1234567890@c.us", "Hello!")
chats = client.get_chats("my-bot")
print(json.dumps({"created": created, "sent": sent, "chats": chats}))
