import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BEGIN, costTable, END, FIGURES, monthlyCost, SIZES } from '#tools/cost-model.ts';

const doc = readFileSync(new URL('../../../docs/SCALING.md', import.meta.url), 'utf8');

describe('cost model (tools/cost-model.ts)', () => {
  it('is the table committed in docs/SCALING.md between its markers', () => {
    const committed = doc.slice(doc.indexOf(BEGIN) + BEGIN.length, doc.indexOf(END)).trim();
    expect(committed).toBe(costTable());
  });

  it('halves no more than the DynamoDB writes: the other lines are the same before and after, but the attempt log', () => {
    for (const size of SIZES) {
      const before = monthlyCost(size, 'before');
      const after = monthlyCost(size, 'after');
      expect(after['DynamoDB writes']).toBeLessThan(before['DynamoDB writes'] ?? 0);
      for (const line of ['DynamoDB reads', 'Lambda (arm64 GB-s and requests)', 'SQS requests'])
        expect(after[line]).toBe(before[line]);
      expect(before['webhook attempt log (issue 16)']).toBe(0);
    }
  });

  it('prices the attempt log from its writes per delivery attempt, nothing when there are none', () => {
    const none = { ...FIGURES, attemptLogWritesPerAttempt: 0 } as unknown as typeof FIGURES;
    expect(monthlyCost(SIZES[0]!, 'after', none)['webhook attempt log (issue 16)']).toBe(0);
    expect(monthlyCost(SIZES[0]!, 'after')['webhook attempt log (issue 16)']).toBeGreaterThan(0);
  });
});
