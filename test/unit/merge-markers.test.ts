/**
 * No file of the repository keeps a merge's conflict markers: a branch
 * merged with both sides of a conflict left in place reads as a document
 * (or code) that says two things at once.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { listRepositoryFiles } from '../helpers/repo-references';

const ROOT = resolve(__dirname, '../..');
/** A line that opens, splits or closes a conflict (built so that this file holds none). */
const MARKER = new RegExp(`^(${'<'.repeat(7)}|${'='.repeat(7)}|${'>'.repeat(7)})( |$)`);

export function conflictLines(text: string): number[] {
  return text.split('\n').flatMap((line, i) => (MARKER.test(line) ? [i + 1] : []));
}

describe('merge conflict markers', () => {
  it('are in no file of the repository', () => {
    const found = listRepositoryFiles(ROOT).flatMap((file) => conflictLines(readFileSync(join(ROOT, file), 'utf8')).map((line) => `${file}:${line}`));
    expect(found).toEqual([]);
  });

  it('are found when a conflict is left in place, and a rule of equals signs in prose is not one', () => {
    const conflict = ['a', '<'.repeat(7) + ' HEAD', 'b', '='.repeat(7), 'c', '>'.repeat(7) + ' branch', 'd'].join('\n');
    expect(conflictLines(conflict)).toEqual([2, 4, 6]);
    expect(conflictLines('Title\n' + '='.repeat(12) + '\n')).toEqual([]);
  });
});
