import type { ReactNode } from 'react';
import './charts.css';

/**
 * A chart's drawing area: the recharts chart with its axes, and over it,
 * while there is nothing to draw, a line saying what will appear there and
 * when. The axes stay drawn underneath, so the first point updates a mounted
 * chart instead of building one. The message sits over the plot, clear of the
 * y axis (`axisLeft`, its width in px) and of what is under the plot
 * (`below`, px: the x axis, a legend).
 */
export function ChartPlot({ empty, axisLeft = 0, below = 40, children }: {
  empty: ReactNode; axisLeft?: number; below?: number; children: ReactNode;
}) {
  return (
    <div className="chart-plot">
      {children}
      {empty ? (
        <p className="chart-empty" data-testid="chart-empty" role="status" style={{ left: axisLeft + 8, bottom: below }}>{empty}</p>
      ) : null}
    </div>
  );
}
