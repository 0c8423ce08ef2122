import { createInterface } from 'node:readline';
import { AccessError } from '../model/errors.js';

/**
 * Asks one question on the terminal and resolves with the answer: the input is echoed and
 * editable (readline in terminal mode), the question goes to stderr so stdout stays data.
 * Ctrl-C (or Ctrl-D) rejects with `interrupted`.
 */
export function askLine(
  question: string,
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  const rl = createInterface({ input, output, terminal: true });
  return new Promise<string>((resolve, reject) => {
    let answered = false;
    rl.on('SIGINT', () => {
      output.write('\n');
      rl.close();
    });
    rl.on('close', () => {
      if (!answered) reject(new AccessError('interrupted', 'interrupted while asking for input'));
    });
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
  });
}
