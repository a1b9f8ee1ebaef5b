type QRCodeModule = typeof import('qrcode');
let qrcode: Promise<QRCodeModule> | null = null;

/** A QR code PNG as a data URL, holding `text`. qrcode is loaded on the first QR (not at start-up). */
export async function qrDataUrl(text: string): Promise<string> {
  qrcode ??= import('qrcode').then((m) => (m as QRCodeModule & { default?: QRCodeModule }).default ?? m);
  return (await qrcode).toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, scale: 6, type: 'image/png' });
}
