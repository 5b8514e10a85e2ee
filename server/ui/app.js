// The workbench's screens and router: login, the cases and hearings list with search across all
// minutes (diacritics ignored), and the hearing (editor.js). Routes are hashes: #/login, #/,
// #/hearing/ID?t=SECONDS&tab=minutes|history|live.

import { ApiError, get, login, logout, session } from './api.js';
import { CASE_KINDS, ROLE_NAMES, fill, h, toast, when } from './dom.js';
import { openHearing } from './editor.js';

const main = document.getElementById('main');
let leave = null;

function route() {
  if (leave) {
    const l = leave;
    leave = null;
    l();
  }
  const s = session();
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(query || '');
  nav(s);
  if (!s || path === '/login') return showLogin();
  const m = path.match(/^\/hearing\/(\d+)$/);
  if (m) {
    leave = openHearing(main, Number(m[1]), params);
    return;
  }
  showCases(params);
}

function nav(s) {
  const el = document.getElementById('nav');
  fill(el);
  if (!s) return;
  el.append(
    h('a', { href: '#/' }, 'Vụ án và phiên tòa'),
    h('span', { class: 'who', title: ROLE_NAMES[s.role] || s.role }, `${s.username} · ${ROLE_NAMES[s.role] || s.role}`),
    h('button', {
      type: 'button',
      class: 'link',
      onclick: async () => {
        await logout();
        location.hash = '#/login';
      },
    }, 'Đăng xuất'),
  );
}

function showLogin() {
  document.title = 'Đăng nhập — courtscribe';
  const user = h('input', { id: 'username', name: 'username', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { class: 'error', role: 'alert' });
  const form = h('form', {
    class: 'card login',
    onsubmit: async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        await login(user.value.trim(), pass.value);
        const back = sessionStorage.getItem('courtscribe.after-login');
        sessionStorage.removeItem('courtscribe.after-login');
        location.hash = back && back !== '#/login' ? back : '#/';
        if (location.hash === (back || '#/')) route();
      } catch (x) {
        err.textContent =
          x instanceof ApiError && x.status === 401
            ? 'Sai tên đăng nhập hoặc mật khẩu.'
            : x instanceof ApiError && x.status === 429
              ? 'Đăng nhập sai quá nhiều lần; hãy thử lại sau ít phút.'
              : `Không đăng nhập được: ${x.message}`;
      }
    },
  },
    h('h1', {}, 'Đăng nhập'),
    h('p', { class: 'muted' }, 'Bàn làm việc biên bản phiên tòa: thư ký sửa bản nháp theo ghi âm, chủ tọa phê duyệt, thẩm phán phúc thẩm tra cứu.'),
    h('label', { for: 'username' }, 'Tên đăng nhập'), user,
    h('label', { for: 'password' }, 'Mật khẩu'), pass,
    err,
    h('button', { type: 'submit', class: 'primary' }, 'Đăng nhập'),
  );
  fill(main, form);
  user.focus();
}

async function showCases(params) {
  document.title = 'Vụ án và phiên tòa — courtscribe';
  const q = h('input', {
    id: 'search',
    type: 'search',
    placeholder: 'Ví dụ: bi cao co mat',
    value: params.get('q') || '',
    autocomplete: 'off',
    'aria-describedby': 'search-help',
  });
  const results = h('div', { id: 'results', 'aria-live': 'polite' });
  const list = h('div', { id: 'cases' }, h('p', { class: 'loading' }, 'Đang tải danh sách vụ án…'));
  const form = h('form', {
    class: 'search',
    role: 'search',
    onsubmit: (e) => {
      e.preventDefault();
      history.replaceState(null, '', `#/?q=${encodeURIComponent(q.value)}`);
      runSearch(q.value, results);
    },
  },
    h('label', { for: 'search' }, 'Tìm trong mọi biên bản'),
    h('div', { class: 'row' }, q, h('button', { type: 'submit', class: 'primary' }, 'Tìm')),
    h('p', { id: 'search-help', class: 'muted' }, 'Không cần gõ dấu, không phân biệt hoa thường: “bi cao” tìm thấy “Bị cáo”. Chọn một kết quả để mở phiên tòa đúng lúc câu đó được nói.'),
  );
  fill(main, h('section', { class: 'cases-screen' }, form, results, h('h1', {}, 'Vụ án và phiên tòa'), list));
  q.focus();
  if (q.value) runSearch(q.value, results);
  try {
    const cases = await get('/api/cases');
    const details = await Promise.all(cases.slice(0, 200).map((c) => get(`/api/cases/${c.id}`)));
    fill(list, casesTable(details, cases.length));
  } catch (x) {
    fill(list, h('p', { class: 'error' }, `Không tải được danh sách vụ án: ${x.message}`));
  }
}

function casesTable(cases, total) {
  if (!cases.length) return h('p', { class: 'muted' }, 'Chưa có vụ án nào.');
  return h('div', {},
    h('table', { class: 'cases' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Số vụ án'), h('th', {}, 'Tên vụ án'), h('th', {}, 'Loại'), h('th', {}, 'Phiên tòa'))),
      h('tbody', {}, cases.map((c) =>
        h('tr', {},
          h('td', { class: 'nowrap' }, c.number),
          h('td', {}, c.title),
          h('td', {}, CASE_KINDS[c.kind] || c.kind),
          h('td', {}, c.hearings.length
            ? h('ul', { class: 'hearings' }, c.hearings.map((hr) =>
              h('li', {}, h('a', { href: `#/hearing/${hr.id}`, class: 'hearing-link' },
                `Phiên tòa số ${hr.id}`, hr.scheduled_at ? ` — ${when(hr.scheduled_at)}` : ` — tạo ${when(hr.created_at)}`))))
            : h('span', { class: 'muted' }, 'chưa có phiên')),
        ))),
    ),
    total > cases.length ? h('p', { class: 'muted' }, `Hiển thị ${cases.length}/${total} vụ án mới nhất.`) : null,
  );
}

async function runSearch(text, out) {
  if (!text.trim()) {
    fill(out);
    return;
  }
  fill(out, h('p', { class: 'loading' }, 'Đang tìm…'));
  try {
    const hits = await get(`/api/search?q=${encodeURIComponent(text)}&limit=100`);
    if (!hits.length) {
      fill(out, h('p', { class: 'muted' }, `Không tìm thấy “${text}”.`));
      return;
    }
    fill(out, 
      h('h2', {}, `${hits.length} kết quả cho “${text}”`),
      h('ol', { class: 'hits' }, hits.map((hit) =>
        h('li', {}, h('a', { href: `#/hearing/${hit.hearing_id}?t=${hit.start.toFixed(2)}`, class: 'hit' },
          h('span', { class: 'case' }, `${hit.case_number} · ${hit.case_title} · phiên ${hit.hearing_id} · ${clockOf(hit.start)}`),
          h('span', { class: 'snippet' }, highlight(hit.text, text)),
        )))),
    );
  } catch (x) {
    fill(out, h('p', { class: 'error' }, `Lỗi tìm kiếm: ${x.message}`));
  }
}

function clockOf(s) {
  const m = Math.floor(s / 60);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

/** The snippet with the searched words marked, matched without diacritics. */
function highlight(text, query) {
  const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
  const words = fold(query).split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const parts = text.split(/(\s+)/);
  return parts.map((p) => (words.includes(fold(p).replace(/[^\p{L}\p{N}]/gu, '')) ? h('mark', {}, p) : p));
}

window.addEventListener('hashchange', route);
route();
window.addEventListener('unhandledrejection', (e) => {
  // A request that outlived the session (expired, or the user logged out meanwhile): the login
  // screen is already on its way; nothing else to report.
  if (e.reason instanceof ApiError && e.reason.status === 401) {
    e.preventDefault();
    if (session()) toast('Phiên đăng nhập đã hết hạn; hãy đăng nhập lại.', 'error');
  } else if (e.reason instanceof ApiError) {
    e.preventDefault();
    toast(e.reason.message, 'error');
  }
});
