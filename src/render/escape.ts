/**
 * Characters a terminal acts on rather than shows: C0 controls (ESC starts escape sequences,
 * BEL ends OSC ones), DEL, C1 controls (U+009B is a one-byte CSI), and the invisible
 * formatting characters that reorder or hide text (bidi overrides and isolates, zero-width
 * characters, line/paragraph separators, BOM).
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Makes a string from the server or another user safe to print in text output: every
 * character a terminal would act on becomes a visible escape (`\x1b`, `\n`, `\u202e`), so
 * a reviewer name or reason can neither move the cursor, retitle the window, fake a line of
 * output nor hide text. Every other character is kept as is. The one escaping path of the
 * render layer: tables and key/value blocks apply it to every cell and line.
 */
export function escapeControls(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
