/**
 * Reads a V8 `.cpuprofile` (written by `node --cpu-prof`) and lists where the time went:
 * top functions by self time, and self time by file or package.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Where the compiled project lives: build/ (this file is build/bench/profile.js). */
const BUILD_ROOT = 'file://' + resolve(__dirname, '..') + '/';

/** `lib/session/session.js`, `node_modules/ws`, `node:internal/...` from a script URL. */
function placeOf(url: string): string {
  if (url === '') return '(native)';
  if (url.startsWith(BUILD_ROOT)) return url.slice(BUILD_ROOT.length);
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return 'node_modules/' + (rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]);
  }
  const build = url.indexOf('/build/');
  if (build !== -1) return url.slice(build + '/build/'.length);
  return url.replace(/^file:\/\//, '');
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  functions: { name: string; place: string; selfMs: number; share: number }[];
  places: { place: string; selfMs: number; share: number }[];
}

export function summarizeProfile(path: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const node of profile.nodes) byId.set(node.id, node);
  // The profiler's own start call (node:inspector) is not the server's work.
  const own = new Set<number>();
  const markOwn = (id: number): void => {
    own.add(id);
    for (const child of byId.get(id)?.children ?? []) markOwn(child);
  };
  for (const node of profile.nodes) if (node.callFrame.url === 'node:inspector') markOwn(node.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, { name: string; place: string; selfMs: number }>();
  const places = new Map<string, number>();
  let totalUs = 0;
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined || own.has(id)) continue;
    totalUs += us;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busyUs += us;
    const name = SPECIAL.has(functionName)
      ? functionName
      : `${functionName || '(anonymous)'}:${lineNumber + 1}`;
    const place = SPECIAL.has(functionName) ? '' : placeOf(url);
    const key = `${name} ${place}`;
    const entry = functions.get(key) ?? { name, place, selfMs: 0 };
    entry.selfMs += us / 1000;
    functions.set(key, entry);
    const group = SPECIAL.has(functionName) ? functionName : place;
    places.set(group, (places.get(group) ?? 0) + us / 1000);
  }
  const busyMs = busyUs / 1000;
  return {
    totalMs: totalUs / 1000,
    busyMs,
    functions: [...functions.values()]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((f) => ({ ...f, share: f.selfMs / busyMs })),
    places: [...places.entries()]
      .map(([place, selfMs]) => ({ place, selfMs, share: selfMs / busyMs }))
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top),
  };
}

/** One profile's section of summary.txt: its `top` functions and places by self time. */
export function profileText(title: string, summary: ProfileSummary, top: number): string {
  const pct = (share: number): string => (share * 100).toFixed(1).padStart(5) + '%';
  const lines = [
    `## ${title}`,
    `busy ${summary.busyMs.toFixed(0)} ms of ${summary.totalMs.toFixed(0)} ms profiled; shares are of busy time`,
    '',
    'top self time by function:',
    ...summary.functions
      .slice(0, top)
      .map((f) => `  ${pct(f.share)}  ${f.selfMs.toFixed(0).padStart(6)} ms  ${f.name}  ${f.place}`),
    '',
    'self time by file / package:',
    ...summary.places
      .slice(0, top)
      .map((p) => `  ${pct(p.share)}  ${p.selfMs.toFixed(0).padStart(6)} ms  ${p.place}`),
    '',
  ];
  return lines.join('\n');
}

/** One profiled run of a scenario, with the units (messages, sessions) its window served. */
export interface ProfiledRun {
  target: string;
  summary: ProfileSummary;
  units: number;
}

/**
 * Where each target's time goes per unit of work, side by side: self time by file or
 * package, and by function, in µs per message (or session) of the profiled window. Lines
 * are ordered by the largest difference between the first target and the others, so what
 * one server spends and another does not comes first.
 */
export function comparisonText(title: string, unit: string, runs: readonly ProfiledRun[], top = 30): string {
  const perUnit = (ms: number, run: ProfiledRun): number => (ms * 1000) / run.units;
  const table = (rows: Map<string, number[]>): string[] => {
    const spread = (values: number[]): number => Math.max(...values) - Math.min(...values);
    const sorted = [...rows].sort((a, b) => spread(b[1]) - spread(a[1])).slice(0, top);
    const width = Math.max(...sorted.map(([name]) => name.length), 10);
    return [
      `  ${''.padEnd(width)}${runs.map((run) => run.target.padStart(24)).join('')}`,
      ...sorted.map(
        ([name, values]) => `  ${name.padEnd(width)}${values.map((v) => v.toFixed(2).padStart(24)).join('')}`,
      ),
    ];
  };
  const collect = (
    pick: (summary: ProfileSummary) => { key: string; selfMs: number }[],
  ): Map<string, number[]> => {
    const rows = new Map<string, number[]>();
    runs.forEach((run, column) => {
      for (const { key, selfMs } of pick(run.summary)) {
        const values = rows.get(key) ?? runs.map(() => 0);
        values[column] += perUnit(selfMs, run);
        rows.set(key, values);
      }
    });
    return rows;
  };
  return [
    `## ${title}: self time in µs per ${unit}`,
    `busy: ${runs.map((run) => `${run.target} ${perUnit(run.summary.busyMs, run).toFixed(1)}`).join(', ')}`,
    '',
    'by file / package:',
    ...table(collect((summary) => summary.places.map((p) => ({ key: p.place, selfMs: p.selfMs })))),
    '',
    'by function:',
    ...table(
      collect((summary) => summary.functions.map((f) => ({ key: `${f.name} ${f.place}`, selfMs: f.selfMs }))),
    ),
    '',
  ].join('\n');
}
