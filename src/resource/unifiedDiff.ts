/** The unified diff `-noop` logs instead of writing (jsdiff). */
/** Loaded only in -noop runs. */
export async function unifiedDiff(path: string, before: string, after: string): Promise<string> {
  const { createTwoFilesPatch } = await import('diff');
  return createTwoFilesPatch(path, path, before, after, 'current', 'rendered', { context: 3 });
}
