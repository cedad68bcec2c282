import { strict as assert } from 'node:assert';
import { feasibleNfes, SOLVER_NAMES, solverByName } from '../../lib/diffusion/solvers/registry';
import { quickstart, quickstartTableRows } from '../../lib/experiments/quickstart';
import { quickstartErrorChart } from '../../lib/experiments/quickstartPlots';
import { toyNoise } from '../../lib/experiments/toySolve';
import { linePlotly } from '../../lib/plot/linePlotly';

describe('quickstart experiment', () => {
  it('runs every solver at every feasible NFE with and without AFS, errors finite and shrinking with NFE', () => {
    const r = quickstart({ n: 24, maxNfe: 40, minNfe: 2 });
    for (const solver of SOLVER_NAMES) {
      for (const afs of [false, true]) {
        const rows = r.rows.filter((x) => x.solver === solver && x.afs === afs);
        assert.deepEqual(
          rows.map((x) => x.nfe),
          feasibleNfes(solverByName(solver), afs, 2, 40),
        );
        for (const row of rows)
          assert.ok(Number.isFinite(row.error) && row.error >= 0, `${solver}: ${row.error}`);
        // Convergence to the exact ODE solution: at 40 NFE far below the error at the smallest NFE.
        assert.ok(
          rows[rows.length - 1].error < rows[0].error / 4,
          `${solver} afs=${afs}: ${rows[0].error} → ${rows[rows.length - 1].error}`,
        );
      }
    }
  });

  it('toyNoise is reproducible for every seed, 0 included, and differs between seeds', () => {
    assert.deepEqual(toyNoise(4, 2, 80, 0), toyNoise(4, 2, 80, 0));
    assert.notDeepEqual(toyNoise(4, 2, 80, 0), toyNoise(4, 2, 80, 1));
  });

  it('quickstartTableRows orders NFE columns numerically and marks infeasible NFEs with –', () => {
    const r = quickstart({ n: 8, solvers: ['heun', 'euler'], minNfe: 2, maxNfe: 10 });
    const rows = quickstartTableRows(r);
    assert.deepEqual(Object.keys(rows[0]), [
      'solver',
      ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `NFE ${n}`),
    ]);
    const heun = rows.find((row) => row.solver === 'Heun (EDM)');
    assert.equal(heun?.['NFE 3'], '–');
    assert.match(heun?.['NFE 4'] ?? '', /^\d/);
  });

  it('the error chart as Plotly has one trace per solver and AFS setting, AFS dashed, on a log y axis', () => {
    const r = quickstart({ n: 8, solvers: ['euler', 'heun'], minNfe: 2, maxNfe: 5 });
    const chart = quickstartErrorChart(r);
    const fig = linePlotly(chart.series, chart.opts) as unknown as {
      data: { name: string; x: number[]; line: { dash: string; color: string } }[];
      layout: { yaxis: { type: string } };
    };
    assert.deepEqual(
      fig.data.map((t) => [t.name, t.line.dash]),
      [
        ['Euler (DDIM)', 'solid'],
        ['Euler (DDIM) +AFS', 'dash'],
        ['Heun (EDM)', 'solid'],
        ['Heun (EDM) +AFS', 'dash'],
      ],
    );
    assert.deepEqual(fig.data[2].x, [2, 4]);
    // the AFS variant keeps its solver's colour, as in the SVG
    assert.equal(fig.data[0].line.color, fig.data[1].line.color);
    assert.equal(fig.layout.yaxis.type, 'log');
  });
});
