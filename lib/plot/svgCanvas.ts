/// <reference lib="dom" />
import * as d3 from 'd3';
import { parseHTML } from 'linkedom';
import { roundSvgGeometry } from './svgRound';

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/** A fresh <svg> on a server-side DOM (linkedom), ready for d3; `render()` gives the SVG text (geometry to 0.01 px). */
export function svgCanvas(width: number, height: number) {
  // linkedom's document is DOM-compatible; d3 only needs an element to append to.
  const { document } = parseHTML('<!doctype html><html><body></body></html>') as unknown as {
    document: { body: Element };
  };
  const svg = d3
    .select(document.body)
    .append('svg')
    .attr('xmlns', 'http://www.w3.org/2000/svg')
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('font-family', 'DejaVu Sans')
    .attr('font-size', 11);
  svg.append('rect').attr('width', width).attr('height', height).attr('fill', 'white');
  return { svg, render: () => roundSvgGeometry((svg.node() as { outerHTML: string }).outerHTML) };
}

/** d3's category10 colours, so figures look alike across notebooks. */
export const PALETTE = d3.schemeTableau10;
