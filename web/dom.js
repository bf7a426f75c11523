// DOM builders. Text always goes through text nodes (textContent), never innerHTML, so API
// data (enterprise names, serials, signal messages) cannot inject markup. Styles are set
// through classes or the CSSOM: the page's Content-Security-Policy refuses style attributes.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'style') Object.assign(el.style, v);
    else if (k === 'value' && 'value' in el) el.value = String(v);
    else if (k === 'checked' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false || c === '') continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** `h('td', {class: 'num'}, 3)` → <td class="num">3</td> */
export function h(tag, attrs = {}, ...children) {
  return apply(document.createElement(tag), attrs, children);
}

/** The same for SVG elements. */
export function svg(tag, attrs = {}, ...children) {
  return apply(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces the main view. */
export function mount(el) {
  document.getElementById('view').replaceChildren(el);
}

/** A select whose options are [value, label] pairs; `all` adds a leading "any" option. */
export function select(attrs, options, current, all) {
  return h(
    'select',
    attrs,
    all === undefined ? null : h('option', { value: '' }, all),
    options.map(([value, label]) => h('option', { value, selected: String(current ?? '') === String(value) }, label)),
  );
}
