/** The unified diff `-noop` logs instead of writing (jsdiff). */
import { createTwoFilesPatch } from 'diff';

export function unifiedDiff(path: string, before: string, after: string): string {
  return createTwoFilesPatch(path, path, before, after, 'current', 'rendered', { context: 3 });
}
