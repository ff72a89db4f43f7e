import { useState } from 'react';
import { downloadChartPng } from './compareDownload';

/** The legend the chart shows, read from recharts' own legend items (label and swatch colour). */
function legendOf(figure: HTMLElement): { label: string; color: string }[] {
  return [...figure.querySelectorAll<HTMLElement>('.recharts-legend-item')].map((item) => {
    const icon = item.querySelector<SVGElement>('.recharts-legend-icon, .recharts-surface path, .recharts-surface line');
    const color = icon?.getAttribute('fill') && icon.getAttribute('fill') !== 'none' ? icon.getAttribute('fill')! : icon?.getAttribute('stroke') ?? '#334155';
    return { label: item.textContent?.trim() ?? '', color };
  }).filter((l) => l.label !== '');
}

/**
 * Saves the chart it sits in as a PNG, with its title and legend (issue 21:
 * every chart as PNG; the comparisons' drawing, reused).
 */
export function ChartPng({ title, fileName, testId }: { title: string; fileName: string; testId: string }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="chart-png">
      <button type="button" className="link-button" data-testid={testId} title={`Save “${title}” as a PNG image`}
        onClick={(event) => {
          const figure = (event.currentTarget as HTMLElement).closest('figure');
          if (!figure) return;
          setError(null);
          downloadChartPng(figure, title, legendOf(figure), fileName).catch((e: unknown) =>
            setError(`Could not save the PNG: ${e instanceof Error ? e.message : String(e)}`));
        }}>
        PNG
      </button>
      {error && <span className="eval-error" role="alert">{error}</span>}
    </span>
  );
}
