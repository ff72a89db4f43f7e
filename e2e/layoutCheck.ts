import type { Page } from '@playwright/test';

/**
 * Layout problems inside one root element, read from bounding boxes in the
 * page: what a person would see as clipped or overlapped.
 * - a box that sticks out of its parent, unless the parent scrolls;
 * - two boxes in the normal flow of one parent that overlap;
 * - text cut by its own box (overflow hidden, ellipsis), and a <select>
 *   narrower than its chosen option's text;
 * - in a chart's SVG: a tick label outside the SVG, two tick or axis labels overlapping.
 * Each problem is one line naming the elements, so a failure says where to look.
 */
export async function layoutProblems(page: Page, rootSelector: string): Promise<string[]> {
  return page.evaluate((selector) => {
    const problems: string[] = [];
    const roots = Array.from(document.querySelectorAll<HTMLElement>(selector));
    const name = (el: Element) => {
      const id = el.getAttribute('data-testid');
      const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      const text = (el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 30);
      return `${el.tagName.toLowerCase()}${id ? `[${id}]` : ''}${cls}${text ? ` “${text}”` : ''}`;
    };
    const visible = (el: Element) => {
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0) return false;
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0;
    };
    const outOfFlow = (el: Element) => {
      const p = getComputedStyle(el).position;
      return p === 'absolute' || p === 'fixed' || p === 'sticky';
    };
    const scrolls = (el: Element) => {
      const s = getComputedStyle(el);
      return [s.overflowX, s.overflowY].some((o) => o === 'auto' || o === 'scroll');
    };
    const TOLERANCE = 1.5;
    const overlapArea = (a: DOMRect, b: DOMRect) =>
      Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));
    const measure = document.createElement('canvas').getContext('2d')!;

    for (const root of roots) {
      if (!visible(root)) continue;
      for (const el of [root, ...Array.from(root.querySelectorAll('*'))]) {
        if (!visible(el) || el instanceof SVGElement) continue;
        const box = el.getBoundingClientRect();
        const parent = el.parentElement;
        // sticking out of the parent
        if (el !== root && parent && !outOfFlow(el) && !scrolls(parent) && visible(parent) && !(parent instanceof SVGElement)) {
          const p = parent.getBoundingClientRect();
          if (box.right > p.right + TOLERANCE || box.left < p.left - TOLERANCE) {
            problems.push(`${name(el)} sticks out of ${name(parent)} by ${Math.round(Math.max(box.right - p.right, p.left - box.left))} px`);
          }
        }
        // siblings in normal flow overlapping
        const children = Array.from(el.children).filter((c) =>
          !(c instanceof SVGElement) && visible(c) && !outOfFlow(c) && !['inline', 'contents'].includes(getComputedStyle(c).display));
        for (let i = 0; i < children.length; i++) {
          for (let j = i + 1; j < children.length; j++) {
            const a = children[i].getBoundingClientRect();
            const b = children[j].getBoundingClientRect();
            if (overlapArea(a, b) > 4) problems.push(`${name(children[i])} overlaps ${name(children[j])}`);
          }
        }
        // text cut by its own box
        const style = getComputedStyle(el);
        if ((style.overflowX === 'hidden' || style.overflowX === 'clip' || style.textOverflow === 'ellipsis') && el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute('title')) {
          problems.push(`${name(el)} clips its text (${el.scrollWidth} px in ${el.clientWidth} px)`);
        }
        if (el instanceof HTMLSelectElement && el.selectedOptions[0]) {
          measure.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
          const textWidth = measure.measureText(el.selectedOptions[0].text).width;
          // padding plus the drop-down arrow (about 20 px in Chromium)
          const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
          if (textWidth > room + 1) problems.push(`${name(el)} cuts its option “${el.selectedOptions[0].text}” (${Math.round(textWidth)} px in ${Math.round(room)} px)`);
        }
      }
      // chart labels
      for (const svg of Array.from(root.querySelectorAll('svg'))) {
        if (!visible(svg)) continue;
        const s = svg.getBoundingClientRect();
        const labels = Array.from(svg.querySelectorAll('text')).filter((t) => visible(t) && (t.textContent ?? '').trim() !== '');
        for (const t of labels) {
          const r = t.getBoundingClientRect();
          if (r.left < s.left - TOLERANCE || r.right > s.right + TOLERANCE || r.top < s.top - TOLERANCE || r.bottom > s.bottom + TOLERANCE) {
            problems.push(`chart label “${t.textContent}” is cut by its chart's edge`);
          }
        }
        for (let i = 0; i < labels.length; i++) {
          for (let j = i + 1; j < labels.length; j++) {
            const a = labels[i].getBoundingClientRect();
            const b = labels[j].getBoundingClientRect();
            if (overlapArea(a, b) > 2) problems.push(`chart labels “${labels[i].textContent}” and “${labels[j].textContent}” overlap`);
          }
        }
      }
    }
    return [...new Set(problems)];
  }, rootSelector);
}
