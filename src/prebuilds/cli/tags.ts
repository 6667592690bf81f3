import { UsageError } from './api-client.js';

/**
 * Tags from the command line: `k=v` items, each given on its own (`--tag a=1 --tag b=2`) or comma-separated
 * (`--tags a=1,b=2`). A key given twice is a usage error, not a silent overwrite.
 */
export function parseTags(items: string[], option: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of items.flatMap((value) => value.split(','))) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    const equals = trimmed.indexOf('=');
    if (equals <= 0) throw new UsageError(`${option}: expected key=value, got '${trimmed}'`);
    const key = trimmed.slice(0, equals).trim();
    if (key in tags) throw new UsageError(`${option}: tag '${key}' given twice`);
    tags[key] = trimmed.slice(equals + 1).trim();
  }
  return tags;
}

/** commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
