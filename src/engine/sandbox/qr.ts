import QRCode from 'qrcode';

/** A QR code PNG as a data URL, holding `text`. */
export function qrDataUrl(text: string): Promise<string> {
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 2, scale: 6, type: 'image/png' });
}
