/**
 * Outsiders' text (User-Agent, request targets, reasons) without control
 * characters (C1 CSI/OSC act like ESC [ and ESC ] on many terminals) or
 * bidirectional overrides before it reaches the developer's terminal.
 */

/** C0 controls but tab and newline, DEL, C1 controls, and the bidirectional embeddings, overrides and isolates. */
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw in a string that a terminal would act on: DEL and C1 (it escapes C0 itself). */
const JSON_RAW_CONTROLS = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `text` for a human reader: each unprintable character becomes U+FFFD. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, '\ufffd');
}

/** A JSON text with the controls JSON.stringify leaves raw escaped (`\u009b`): the same value, safe on a terminal. */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_RAW_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
