/**
 * Line charts as a standalone SVG file, for the results of a runner to draw themselves
 * without a charting dependency: panels side by side, a logarithmic x axis (steps that
 * grow by factors, 1,000 to 18,000, sit evenly) and a linear y axis from zero, so that a
 * flat line reads as a constant cost per session.
 */

export interface Series {
  label: string;
  /** Any SVG colour; the same label should keep the same colour in every panel. */
  color: string;
  points: readonly { x: number; y: number }[];
}

export interface Panel {
  title: string;
  yLabel: string;
  series: readonly Series[];
}

export interface Chart {
  title: string;
  xLabel: string;
  /** Where the x axis has labelled ticks (the steps). */
  xTicks: readonly number[];
  panels: readonly Panel[];
  /** Panels per row. */
  columns: number;
}

const PANEL_WIDTH = 360;
const PANEL_HEIGHT = 240;
const MARGIN = { left: 64, right: 16, top: 36, bottom: 44 };
const TITLE_HEIGHT = 32;
const LEGEND_ROW = 18;

/** Distinct on white and for the common colour blindnesses (Okabe and Ito's palette). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** 1 2 5 10 20 50 ...: a round step that gives about five gridlines up to `max`. */
function niceStep(max: number): number {
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const multiple = [1, 2, 5, 10].find((m) => m * power >= rough) ?? 10;
  return multiple * power;
}

function tickText(value: number): string {
  if (value >= 1000 && value % 1000 === 0) return `${value / 1000}k`;
  return Number.isInteger(value) ? String(value) : value.toPrecision(2);
}

function panelSvg(panel: Panel, chart: Chart, left: number, top: number): string {
  const width = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const height = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const xs = [...chart.xTicks, ...panel.series.flatMap((s) => s.points.map((p) => p.x))].filter((x) => x > 0);
  const xMin = Math.log(Math.min(...xs));
  const xMax = Math.log(Math.max(...xs));
  const ys = panel.series.flatMap((s) => s.points.map((p) => p.y)).filter((y) => Number.isFinite(y));
  const step = niceStep(Math.max(...ys, 0) * 1.1 || 1);
  const yMax = Math.ceil((Math.max(...ys, 0) * 1.1 || 1) / step) * step;
  const x = (value: number): number =>
    left + MARGIN.left + (xMax === xMin ? width / 2 : ((Math.log(value) - xMin) / (xMax - xMin)) * width);
  const y = (value: number): number => top + MARGIN.top + height - (value / yMax) * height;
  const parts: string[] = [];
  parts.push(
    `<text x="${left + MARGIN.left + width / 2}" y="${top + 20}" text-anchor="middle" font-weight="bold">${escape(panel.title)}</text>`,
  );
  for (let value = 0; value <= yMax + step / 2; value += step) {
    parts.push(
      `<line x1="${left + MARGIN.left}" x2="${left + MARGIN.left + width}" y1="${y(value)}" y2="${y(value)}" stroke="#ddd"/>`,
      `<text x="${left + MARGIN.left - 6}" y="${y(value) + 4}" text-anchor="end">${tickText(Number(value.toPrecision(6)))}</text>`,
    );
  }
  for (const tick of chart.xTicks) {
    parts.push(
      `<line x1="${x(tick)}" x2="${x(tick)}" y1="${top + MARGIN.top}" y2="${top + MARGIN.top + height}" stroke="#eee"/>`,
      `<text x="${x(tick)}" y="${top + MARGIN.top + height + 16}" text-anchor="middle">${tickText(tick)}</text>`,
    );
  }
  parts.push(
    `<rect x="${left + MARGIN.left}" y="${top + MARGIN.top}" width="${width}" height="${height}" fill="none" stroke="#888"/>`,
    `<text x="${left + MARGIN.left + width / 2}" y="${top + PANEL_HEIGHT - 8}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text transform="translate(${left + 14} ${top + MARGIN.top + height / 2}) rotate(-90)" text-anchor="middle">${escape(panel.yLabel)}</text>`,
  );
  for (const series of panel.series) {
    const points = series.points.filter((p) => p.x > 0 && Number.isFinite(p.y));
    if (points.length === 0) continue;
    const path = points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`);
    parts.push(`<path d="${path.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"/>`);
    for (const p of points)
      parts.push(
        `<circle cx="${x(p.x).toFixed(1)}" cy="${y(p.y).toFixed(1)}" r="3" fill="${series.color}"/>`,
      );
  }
  return parts.join('\n');
}

/** The whole chart: title, panels in rows of `columns`, one legend of every series label. */
export function lineChart(chart: Chart): string {
  const rows = Math.ceil(chart.panels.length / chart.columns);
  const legend = new Map<string, string>();
  for (const panel of chart.panels) for (const s of panel.series) legend.set(s.label, s.color);
  const width = chart.columns * PANEL_WIDTH;
  const height = TITLE_HEIGHT + rows * PANEL_HEIGHT + (legend.size + 1) * LEGEND_ROW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  chart.panels.forEach((panel, i) => {
    const left = (i % chart.columns) * PANEL_WIDTH;
    const top = TITLE_HEIGHT + Math.floor(i / chart.columns) * PANEL_HEIGHT;
    parts.push(panelSvg(panel, chart, left, top));
  });
  let row = TITLE_HEIGHT + rows * PANEL_HEIGHT + LEGEND_ROW;
  for (const [label, color] of legend) {
    parts.push(
      `<line x1="${MARGIN.left}" x2="${MARGIN.left + 24}" y1="${row - 4}" y2="${row - 4}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${MARGIN.left + 30}" y="${row}">${escape(label)}</text>`,
    );
    row += LEGEND_ROW;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
