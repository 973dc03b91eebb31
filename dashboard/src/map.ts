// The world map: Natural Earth 1:110m countries (world-atlas, public domain data) drawn as
// SVG with the Natural Earth projection, each country filled by the p75 LCP band of the
// country or of its worst region with enough page views, whichever is slower.

import { whereAlpha2, whereNumeric } from 'iso-3166-1';
import { feature } from 'topojson-client';
import type { GeometryCollection, Topology } from 'topojson-specification';
import type { Feature, FeatureCollection, Geometry, Position } from 'geojson';
import world from 'world-atlas/countries-110m.json';
import { band, COLORS, format, LABELS } from './bands';

const WIDTH = 960;
const SVG = 'http://www.w3.org/2000/svg';

export interface CountryValue {
  p75: number;
  samples: number;
  // its slowest region with enough page views, when that region is slower than the country
  worst?: { region: string; p75: number; samples: number };
}

/** d3's geoNaturalEarth1Raw (Šavrič et al. 2011): radians in, unit plane out. */
function project(lon: number, lat: number): [number, number] {
  const l = (lon * Math.PI) / 180;
  const p = (lat * Math.PI) / 180;
  const p2 = p * p;
  const p4 = p2 * p2;
  const x = l * (0.8707 - 0.131979 * p2 + p4 * (-0.013791 + p4 * (0.003971 * p2 - 0.001529 * p4)));
  const y = p * (1.007226 + p2 * (0.015085 + p4 * (-0.044475 + 0.028874 * p2 - 0.005916 * p4)));
  return [x, y];
}

const SCALE = WIDTH / (2 * project(180, 0)[0]);
const TOP = project(0, 84)[1];
const HEIGHT = Math.round((TOP - project(0, -58)[1]) * SCALE);

function ringPath(ring: Position[]): string {
  let d = '';
  let prevLon: number | null = null;
  for (const [lon, lat] of ring) {
    const [x, y] = project(lon, lat);
    // a jump across the antimeridian starts a new sub-path instead of a stripe over the map
    const move = prevLon === null || Math.abs(lon - prevLon) > 180;
    d += `${move ? 'M' : 'L'}${(WIDTH / 2 + x * SCALE).toFixed(1)},${((TOP - y) * SCALE).toFixed(1)}`;
    prevLon = lon;
  }
  return d + 'Z';
}

function geometryPath(geometry: Geometry): string {
  if (geometry.type === 'Polygon') return geometry.coordinates.map(ringPath).join('');
  if (geometry.type === 'MultiPolygon') {
    return geometry.coordinates.map((poly) => poly.map(ringPath).join('')).join('');
  }
  return '';
}

interface Country {
  alpha2: string;
  name: string;
  path: SVGPathElement;
  title: SVGTitleElement;
}

/** The map, drawn once; `update` recolours it. */
export class WorldMap {
  private countries: Country[] = [];

  /** `onSelect` is called with a country's code when it is clicked (one with data). */
  constructor(container: HTMLElement, onSelect?: (alpha2: string) => void) {
    const topology = world as unknown as Topology<{ countries: GeometryCollection<{ name: string }> }>;
    const shapes = feature(topology, topology.objects.countries) as FeatureCollection<Geometry, { name: string }>;
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', `0 0 ${WIDTH} ${HEIGHT}`);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'World map of p75 LCP by country');
    for (const shape of shapes.features as Feature<Geometry, { name: string }>[]) {
      if (shape.id === '010') continue; // Antarctica: no visitors, a third of the height
      const code = whereNumeric(String(shape.id ?? ''))?.alpha2 ?? '';
      const path = document.createElementNS(SVG, 'path');
      path.setAttribute('d', geometryPath(shape.geometry));
      path.dataset.country = code;
      const title = document.createElementNS(SVG, 'title');
      path.append(title);
      if (onSelect && code) {
        path.addEventListener('click', () => { if (path.dataset.band !== 'none') onSelect(code); });
      }
      svg.append(path);
      this.countries.push({ alpha2: code, name: shape.properties.name, path, title });
    }
    container.replaceChildren(svg);
    this.update(new Map());
  }

  /** Fill each country by the band of its p75 LCP; countries without data stay grey. */
  update(values: Map<string, CountryValue>): void {
    for (const c of this.countries) {
      const value = c.alpha2 ? values.get(c.alpha2) : undefined;
      if (value === undefined) {
        c.path.setAttribute('fill', COLORS.none);
        c.path.dataset.band = 'none';
        c.title.textContent = `${c.name}: no data`;
        continue;
      }
      // a country is as slow as its worst region: a slow state is not averaged away
      const shown = value.worst && value.worst.p75 > value.p75 ? value.worst.p75 : value.p75;
      const b = band('lcp', shown);
      c.path.setAttribute('fill', COLORS[b]);
      c.path.dataset.band = b;
      c.title.textContent = `${c.name}: p75 LCP ${format('lcp', value.p75)}, `
        + `${value.samples.toLocaleString('en')} samples`
        + (value.worst && value.worst.p75 > value.p75
          ? `; worst region ${value.worst.region}: ${format('lcp', value.worst.p75)} `
            + `(${LABELS[b]}, ${value.worst.samples.toLocaleString('en')} samples)` : ` (${LABELS[b]})`);
    }
  }
}

/** The display name of an ISO 3166-1 alpha-2 code ('' = unknown). */
export function countryName(alpha2: string): string {
  return alpha2 ? whereAlpha2(alpha2)?.country ?? alpha2 : 'unknown';
}
