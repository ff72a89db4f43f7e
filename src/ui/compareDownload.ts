/**
 * Downloads for the comparison panel: a Blob through a temporary link, and a
 * chart as PNG. recharts draws into an <svg>, but its legend is HTML, so the
 * PNG is the serialized SVG drawn on a canvas with the title above and the
 * legend (one swatch per run) drawn below it.
 */

export function downloadBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // the download has its own reference by now; a moment later the URL can go
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function downloadText(text: string, fileName: string, type: string): void {
  downloadBlob(new Blob([text], { type }), fileName);
}

const SCALE = 2;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

function loadImage(url: string): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error('the browser could not draw the chart’s SVG as an image'));
    image.src = url;
  });
}

/** Draws the recharts <svg> inside `container` as a PNG, with a title and a legend, and downloads it. */
export async function downloadChartPng(
  container: HTMLElement,
  title: string,
  legend: readonly { label: string; color: string }[],
  fileName: string,
): Promise<void> {
  const svg = container.querySelector<SVGSVGElement>('svg.recharts-surface');
  if (!svg) throw new Error('There is no chart to save yet.');
  const { width, height } = svg.getBoundingClientRect();
  const clone = svg.cloneNode(true) as SVGSVGElement;
  clone.setAttribute('xmlns', 'http://www.w3.org/2000/svg');
  clone.setAttribute('width', String(width));
  clone.setAttribute('height', String(height));
  // text in the SVG inherits the page's font through CSS, which an image does not see
  clone.setAttribute('font-family', FONT);
  const svgUrl = URL.createObjectURL(new Blob([new XMLSerializer().serializeToString(clone)], { type: 'image/svg+xml;charset=utf-8' }));
  try {
    const image = await loadImage(svgUrl);
    const titleHeight = 28;
    const rowHeight = 20;
    const legendHeight = legend.length * rowHeight + 12;
    const canvas = document.createElement('canvas');
    canvas.width = Math.ceil(width * SCALE);
    canvas.height = Math.ceil((titleHeight + height + legendHeight) * SCALE);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser gave no 2D canvas to draw the PNG on');
    ctx.scale(SCALE, SCALE);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, titleHeight + height + legendHeight);
    ctx.fillStyle = '#0f172a';
    ctx.font = `600 15px ${FONT}`;
    ctx.textBaseline = 'middle';
    ctx.fillText(title, 12, titleHeight / 2);
    ctx.drawImage(image, 0, titleHeight, width, height);
    ctx.font = `13px ${FONT}`;
    legend.forEach((entry, k) => {
      const y = titleHeight + height + 6 + k * rowHeight + rowHeight / 2;
      ctx.fillStyle = entry.color;
      ctx.fillRect(16, y - 2, 22, 4);
      ctx.fillStyle = '#0f172a';
      ctx.fillText(entry.label, 46, y);
    });
    const png = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!png) throw new Error('the canvas could not be encoded as PNG');
    downloadBlob(png, fileName);
  } finally {
    URL.revokeObjectURL(svgUrl);
  }
}
