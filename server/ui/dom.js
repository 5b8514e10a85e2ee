// Small DOM helpers: element building without innerHTML (no markup injection from transcript
// text), the toast, dates in Vietnamese.

/** h('div', {class: 'x', onclick: f}, child, 'text', [more]) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

let toastTimer = 0;

/** A short message at the bottom of the screen (read out by screen readers). */
export function toast(message, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = message;
  el.className = `show ${kind}`;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.className = '';
  }, 5000);
}

/** "26/11/2026 10:35" in the user's time zone. */
export function when(rfc3339) {
  const d = new Date(rfc3339);
  if (Number.isNaN(d.getTime())) return rfc3339 || '';
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getDate())}/${p(d.getMonth() + 1)}/${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

export const ROLE_NAMES = {
  admin: 'Quản trị viên',
  secretary: 'Thư ký',
  judge: 'Thẩm phán',
  reviewer: 'Thẩm phán phúc thẩm (chỉ đọc)',
  station: 'Trạm ghi âm',
};

export const CASE_KINDS = {
  criminal: 'Hình sự',
  civil: 'Dân sự',
  administrative: 'Hành chính',
  economic: 'Kinh doanh, thương mại',
  labour: 'Lao động',
  marriage_family: 'Hôn nhân và gia đình',
  bankruptcy: 'Phá sản',
  other: 'Khác',
};

/** Replaces `el`'s children (arrays flattened; null, undefined and false left out). */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}
