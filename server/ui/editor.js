// A hearing: the clerk's editor (audio synced to the words, keyboard first, autosave as
// revisions), approval and amendments, the revision history with word diffs, private notes and
// bookmarks, exports and the live captions. The transcript list is virtualised: only the rows in
// view (and a margin) are in the DOM, so a three-hour hearing opens as fast as a short one.

import { api, get, session, withToken } from './api.js';
import { fill, h, toast, when } from './dom.js';
import * as M from './model.js';
import { Player } from './player.js';

/** Autosave this long after the last change (ms). */
const AUTOSAVE_MS = 1500;
/** Keys that move through the audio (seconds). */
const SKIP_SECS = 3;
/** After the user scrolls, playback stops pulling the view for this long (ms). */
const FOLLOW_PAUSE_MS = 4000;
/** Rows rendered above and below the view (px). */
const OVERSCAN_PX = 800;

export function openHearing(main, id, params) {
  const view = new HearingView(main, id, params);
  view.start().catch((x) => {
    fill(main, h('p', { class: 'error' }, `Không mở được phiên tòa ${id}: ${x.message}`));
  });
  return () => view.close();
}

export const SHORTCUTS = [
  ['Ctrl+Space hoặc Alt+Space', 'Phát / tạm dừng'],
  ['Alt+←  /  Alt+→', `Lùi / tiến ${SKIP_SECS} giây`],
  ['Alt+↑  /  Alt+↓', 'Tăng / giảm tốc độ phát'],
  ['Tab hoặc Alt+N', 'Từ có độ tin cậy thấp tiếp theo'],
  ['Shift+Tab hoặc Alt+P', 'Từ có độ tin cậy thấp trước đó'],
  ['←  →  /  ↑  ↓', 'Từ trước, sau / đoạn trước, sau'],
  ['Enter hoặc F2', 'Sửa từ đang chọn (Enter lưu, Esc bỏ)'],
  ['Shift+Enter hoặc Shift+F2', 'Sửa cả đoạn'],
  ['Alt+J', 'Phát từ từ đang chọn'],
  ['Alt+G', 'Chọn từ đang phát'],
  ['Alt+R', 'Đổi người nói (mọi nơi hoặc một đoạn)'],
  ['Alt+S  /  Alt+M', 'Tách đoạn tại từ đang chọn / gộp với đoạn sau'],
  ['Ctrl+F', 'Tìm và thay thế'],
  ['Ctrl+S', 'Lưu ngay (vẫn tự lưu sau mỗi thay đổi)'],
  ['Alt+B  /  Alt+C', 'Đánh dấu đoạn / ghi chú riêng cho đoạn'],
];

class VList {
  constructor(scroller, inner, rowFn) {
    this.sc = scroller;
    this.inner = inner;
    this.rowFn = rowFn;
    this.rows = new Map();
    this.n = 0;
    this.heights = [];
    this.off = null;
    this.raf = 0;
    scroller.addEventListener('scroll', () => this.schedule());
    this.resize = new ResizeObserver(() => this.schedule());
    this.resize.observe(scroller);
  }

  reset(n, estimate) {
    this.n = n;
    this.heights = Array.from({ length: n }, (_, i) => estimate(i));
    this.off = null;
    for (const el of this.rows.values()) el.remove();
    this.rows.clear();
    this.render();
  }

  offsets() {
    if (!this.off) {
      const off = new Float64Array(this.n + 1);
      for (let i = 0; i < this.n; i++) off[i + 1] = off[i] + this.heights[i];
      this.off = off;
    }
    return this.off;
  }

  schedule() {
    if (!this.raf)
      this.raf = requestAnimationFrame(() => {
        this.raf = 0;
        this.render();
      });
  }

  indexAt(y) {
    const off = this.offsets();
    return Math.max(0, Math.min(this.n - 1, M.lastAtOrBefore(off, y)));
  }

  render() {
    if (!this.n) {
      this.inner.style.height = '0px';
      return;
    }
    for (let pass = 0; pass < 3; pass++) {
      const top = this.sc.scrollTop;
      const a = this.indexAt(top - OVERSCAN_PX);
      const b = this.indexAt(top + this.sc.clientHeight + OVERSCAN_PX);
      for (const [i, el] of this.rows) {
        if ((i < a || i > b) && !el.contains(document.activeElement)) {
          el.remove();
          this.rows.delete(i);
        }
      }
      for (let i = a; i <= b; i++) {
        if (!this.rows.has(i)) {
          const el = this.rowFn(i);
          this.inner.append(el);
          this.rows.set(i, el);
        }
      }
      const anchor = this.indexAt(top);
      const before = this.offsets()[anchor];
      let changed = false;
      for (const [i, el] of this.rows) {
        const hh = el.offsetHeight;
        if (hh && Math.abs(hh - this.heights[i]) > 0.5) {
          this.heights[i] = hh;
          changed = true;
        }
      }
      if (changed) this.off = null;
      const off = this.offsets();
      for (const [i, el] of this.rows) el.style.top = `${off[i]}px`;
      this.inner.style.height = `${off[this.n]}px`;
      if (!changed) break;
      // Rows above the view grew or shrank: keep what the user looks at where it was.
      const shift = off[anchor] - before;
      if (shift) this.sc.scrollTop = top + shift;
    }
  }

  refresh(i) {
    const old = this.rows.get(i);
    if (!old) return;
    const el = this.rowFn(i);
    el.style.top = old.style.top;
    old.replaceWith(el);
    this.rows.set(i, el);
    this.render();
  }

  refreshAll() {
    for (const i of [...this.rows.keys()]) {
      const old = this.rows.get(i);
      const el = this.rowFn(i);
      el.style.top = old.style.top;
      old.replaceWith(el);
      this.rows.set(i, el);
    }
    this.render();
  }

  /** Scrolls row `i` into view ('nearest' or 'center') and renders it. */
  show(i, mode = 'nearest') {
    const off = this.offsets();
    const top = off[i];
    const bottom = off[i + 1];
    const view = this.sc.clientHeight;
    if (mode === 'center') this.sc.scrollTop = Math.max(0, top - (view - (bottom - top)) / 3);
    else if (top < this.sc.scrollTop) this.sc.scrollTop = Math.max(0, top - 8);
    else if (bottom > this.sc.scrollTop + view) this.sc.scrollTop = bottom - view + 8;
    this.render();
  }

  close() {
    this.resize.disconnect();
    cancelAnimationFrame(this.raf);
  }
}

class HearingView {
  constructor(main, id, params) {
    this.main = main;
    this.id = id;
    this.params = params;
    this.s = session();
    this.closed = false;
    this.sel = { si: 0, wi: -1 };
    this.editing = null;
    this.dirty = false;
    this.changeNo = 0;
    this.saving = null;
    this.conflict = false;
    this.playIdx = -1;
    this.userScrollAt = 0;
    this.programmaticScroll = false;
    this.autoPause = true;
    this.follow = true;
    this.resumeAfterTyping = false;
    this.found = null;
    this.onKey = (e) => this.key(e);
    this.onUnload = (e) => {
      if (this.dirty) {
        e.preventDefault();
        e.returnValue = '';
      }
    };
  }

  get base() {
    return `/api/hearings/${this.id}`;
  }

  get isEditor() {
    return this.s.role === 'secretary' || this.s.role === 'judge';
  }

  get canEdit() {
    return this.isEditor && !this.approved && !this.conflict;
  }

  async start() {
    fill(this.main, h('p', { class: 'loading' }, 'Đang mở phiên tòa…'));
    this.hearing = await get(this.base);
    this.kase = await get(`/api/cases/${this.hearing.case_id}`).catch(() => null);
    document.title = `${this.hearing.case_number} · phiên ${this.id} — courtscribe`;
    for (;;) {
      if (this.closed) return;
      const r = await api(`${this.base}/transcript`, { raw: true });
      if (r.status === 200) break;
      const body = await r.json().catch(() => ({}));
      if (r.status === 202) {
        fill(this.main, this.head(), h('p', { class: 'loading' },
          `Đang chuyển giọng nói thành văn bản (${body.status === 'running' ? 'đang chạy' : 'đang chờ'}): ${Math.round((body.progress || 0) * 100)}%…`));
        await new Promise((ok) => setTimeout(ok, 2000));
        continue;
      }
      if (r.status === 404) {
        fill(this.main, this.head(), h('p', { class: 'muted' }, 'Phiên tòa này chưa có ghi âm.'), this.liveOnly());
        return;
      }
      throw new Error(body.error || `HTTP ${r.status}`);
    }
    const [revisions, recordings, markers] = await Promise.all([
      get(`${this.base}/revisions`),
      get(`${this.base}/recordings`),
      get(`${this.base}/markers`).catch(() => []),
    ]);
    this.revisions = revisions;
    this.rev = revisions[revisions.length - 1].number;
    this.t = await get(`${this.base}/revisions/${this.rev}`);
    this.recordings = recordings;
    this.markers = markers;
    await this.loadApprovals();
    const loaded = performance.now();
    this.notes = this.loadNotes();
    this.build();
    // How long the transcript took to show once it had arrived (benches/workbench_render.rs reads it).
    document.body.dataset.renderMs = String(Math.round(performance.now() - loaded));
    document.addEventListener('keydown', this.onKey, true);
    window.addEventListener('beforeunload', this.onUnload);
    const t = Number(this.params.get('t'));
    if (this.params.has('t') && Number.isFinite(t)) this.jumpTo(t, true);
    else this.sel = { si: 0, wi: -1 };
    const tab = this.params.get('tab');
    if (tab) this.showTab(tab);
    else this.scroller.focus({ preventScroll: true });
  }

  async loadApprovals() {
    const [approvals, amendments] = await Promise.all([
      get(`${this.base}/approvals`),
      get(`${this.base}/amendments`),
    ]);
    this.approvals = approvals;
    this.amendments = amendments;
    this.approved = approvals.some((a) => a.role === 'judge');
  }

  close() {
    this.closed = true;
    document.removeEventListener('keydown', this.onKey, true);
    window.removeEventListener('beforeunload', this.onUnload);
    cancelAnimationFrame(this.playRaf);
    clearTimeout(this.saveTimer);
    if (this.source) this.source.close();
    if (this.audio) {
      this.audio.pause();
      this.audio.removeAttribute('src');
    }
    if (this.list) this.list.close();
    if (this.dirty && !this.conflict) this.save();
  }

  // -------------------------------------------------------------------------------------------
  // Layout

  head() {
    const k = this.kase;
    return h('div', { class: 'hearing-head' },
      h('div', {},
        h('h1', {}, `Vụ án ${this.hearing.case_number}`, k ? ` — ${k.title}` : ''),
        h('p', { class: 'muted' }, `Phiên tòa số ${this.id}`,
          this.hearing.scheduled_at ? ` · ${when(this.hearing.scheduled_at)}` : '',
          ` · ngôn ngữ: ${this.hearing.language === 'vi' ? 'tiếng Việt' : this.hearing.language}`,
          this.hearing.participants.length
            ? ` · ${this.hearing.participants.map((p) => `${M.roleName(p.role)}: ${p.name}`).join('; ')}`
            : ''),
      ),
      this.statusBox = h('div', { class: 'status' }),
    );
  }

  build() {
    this.audio = h('audio', { preload: 'metadata' });
    this.player = new Player(this.audio, this.recordings);
    this.scroller = h('div', {
      class: 'scroller',
      tabindex: '0',
      role: 'application',
      'aria-label': 'Nội dung biên bản. Dùng phím mũi tên để chọn từ, Enter để sửa.',
      'aria-roledescription': 'trình sửa biên bản',
    });
    this.inner = h('div', { class: 'inner' });
    this.scroller.append(this.inner);
    this.list = new VList(this.scroller, this.inner, (i) => this.row(i));
    this.scroller.addEventListener('scroll', () => {
      if (!this.programmaticScroll) this.userScrollAt = Date.now();
    });
    this.scroller.addEventListener('click', (e) => this.click(e));
    this.scroller.addEventListener('dblclick', (e) => {
      const w = e.target.closest('.w');
      if (w) this.editWord(Number(w.dataset.si), Number(w.dataset.wi));
    });
    this.banner = h('div', { class: 'banner', role: 'alert', hidden: true });
    this.amendBox = h('section', { class: 'amendments', 'aria-labelledby': 'amend-title' });
    this.side = h('aside', { class: 'side' });

    this.tabs = {
      minutes: h('div', { class: 'tabpanel', id: 'tab-minutes', role: 'tabpanel' },
        h('div', { class: 'workspace' },
          h('div', { class: 'doc' }, this.playerBar(), this.banner, this.scroller, this.amendBox),
          this.side,
        )),
      history: h('div', { class: 'tabpanel', id: 'tab-history', role: 'tabpanel', hidden: true }),
      live: h('div', { class: 'tabpanel', id: 'tab-live', role: 'tabpanel', hidden: true }),
    };
    const names = { minutes: 'Biên bản', history: 'Lịch sử sửa đổi', live: 'Phụ đề trực tiếp' };
    this.tabButtons = {};
    const tablist = h('div', { class: 'tabs', role: 'tablist' }, Object.keys(this.tabs).map((k) => {
      const b = h('button', {
        type: 'button', role: 'tab', id: `tabbtn-${k}`, 'aria-controls': `tab-${k}`,
        onclick: () => this.showTab(k),
      }, names[k]);
      this.tabButtons[k] = b;
      return b;
    }));
    fill(this.main, h('section', { class: 'hearing' }, this.head(), tablist, Object.values(this.tabs), this.audio));
    this.tabButtons.minutes.setAttribute('aria-selected', 'true');
    this.player.addEventListener('state', () => this.playerState());
    this.player.addEventListener('time', () => this.tick());
    this.audio.addEventListener('play', () => this.loop());
    this.renderAll();
  }

  renderAll() {
    this.index = M.wordIndex(this.t);
    this.list.reset(this.t.segments.length, (i) => 30 + 24 * Math.ceil((this.t.segments[i].text.length + 1) / 90));
    this.renderStatus();
    this.renderSide();
    this.renderAmendments();
    this.playerState();
  }

  renderStatus() {
    if (!this.statusBox) return;
    const badge = this.approved
      ? h('span', { class: 'badge approved', id: 'approved-badge' }, 'Đã phê duyệt')
      : h('span', { class: 'badge draft' }, 'Bản nháp — đang sửa');
    this.saveStatus = this.saveStatus || h('span', { class: 'save-status', id: 'save-status', 'aria-live': 'polite' });
    if (!this.saveStatus.textContent) this.saveStatus.textContent = `Bản số ${this.rev}`;
    const mode = this.canEdit
      ? h('span', { class: 'mode' }, 'Chế độ sửa')
      : h('span', { class: 'mode ro', id: 'readonly' }, this.approved ? 'Chỉ đọc: biên bản đã khóa' : this.conflict ? 'Chỉ đọc: cần tải lại' : 'Chỉ đọc');
    fill(this.statusBox, badge, mode, this.saveStatus);
  }

  setSaveStatus(text, kind = '') {
    this.saveStatus.textContent = text;
    this.saveStatus.className = `save-status ${kind}`;
  }

  playerBar() {
    this.playBtn = h('button', { type: 'button', class: 'play', onclick: () => this.player.toggle(), title: 'Ctrl+Space' }, '▶ Phát');
    this.clockEl = h('span', { class: 'clock', id: 'clock' }, '00:00');
    this.seekBar = h('input', {
      type: 'range', min: '0', max: String(Math.max(1, this.totalDuration())), step: '0.1', value: '0',
      'aria-label': 'Vị trí trong ghi âm',
      oninput: () => this.player.seek(Number(this.seekBar.value)),
    });
    this.rateEl = h('span', { class: 'rate', id: 'rate' }, '1,0×');
    return h('div', { class: 'player' },
      this.playBtn,
      h('button', { type: 'button', onclick: () => this.skip(-SKIP_SECS), title: 'Alt+←' }, `−${SKIP_SECS} s`),
      h('button', { type: 'button', onclick: () => this.skip(SKIP_SECS), title: 'Alt+→' }, `+${SKIP_SECS} s`),
      this.clockEl, this.seekBar,
      h('span', { class: 'speed' },
        h('button', { type: 'button', onclick: () => this.speed(-0.1), title: 'Alt+↓', 'aria-label': 'Chậm hơn' }, '−'),
        this.rateEl,
        h('button', { type: 'button', onclick: () => this.speed(0.1), title: 'Alt+↑', 'aria-label': 'Nhanh hơn' }, '+')),
      h('label', { class: 'check' }, h('input', {
        type: 'checkbox', checked: true, onchange: (e) => { this.autoPause = e.target.checked; },
      }), 'Tự dừng khi gõ'),
      h('label', { class: 'check' }, h('input', {
        type: 'checkbox', checked: true, onchange: (e) => { this.follow = e.target.checked; },
      }), 'Cuộn theo lời nói'),
    );
  }

  totalDuration() {
    return this.player ? this.player.duration : this.recordings.reduce((n, r) => n + r.duration, 0);
  }

  playerState() {
    if (!this.player) return;
    this.playBtn.textContent = this.player.playing ? '❚❚ Dừng' : '▶ Phát';
    this.playBtn.setAttribute('aria-pressed', String(this.player.playing));
    this.rateEl.textContent = `${this.player.rate.toFixed(1).replace('.', ',')}×`;
    this.tick();
  }

  // -------------------------------------------------------------------------------------------
  // Rows

  row(si) {
    const seg = this.t.segments[si];
    const key = segKey(seg);
    const bookmarked = this.notes.bookmarks[key] !== undefined;
    const note = this.notes.notes[key];
    const markers = this.markersIn(si);
    const spk = M.speakerInfo(this.t, seg.speaker);
    const cls = ['seg'];
    if (bookmarked) cls.push('bookmarked');
    if (this.found && this.found.si === si) cls.push('found');
    if (this.sel.si === si) cls.push('current');
    const text = h('div', { class: 'text', lang: 'vi' });
    if (this.editing && this.editing.kind === 'segment' && this.editing.si === si) {
      text.append(this.segmentEditor(si));
    } else if (!seg.words.length) {
      text.append(seg.text);
    } else {
      seg.words.forEach((w, wi) => {
        if (wi) text.append(' ');
        if (this.editing && this.editing.kind === 'word' && this.editing.si === si && this.editing.wi === wi) {
          text.append(this.wordEditor(si, wi));
          return;
        }
        const c = ['w'];
        if (M.isLow(w)) c.push('low');
        if (this.sel.si === si && this.sel.wi === wi) c.push('sel');
        const flat = this.flatOf(si, wi);
        if (flat === this.playIdx) c.push('play');
        text.append(h('span', {
          class: c.join(' '), id: `w${si}_${wi}`, dataset: { si, wi },
          title: `${M.clock(w.start)} · độ tin cậy ${Math.round((w.probability ?? 1) * 100)}%`,
        }, w.text.trim()));
      });
    }
    return h('div', { class: cls.join(' '), id: `seg${si}`, dataset: { si } },
      h('div', { class: 'meta' },
        h('button', {
          type: 'button', class: `spk ${spk ? '' : 'unknown'}`, tabindex: '-1',
          title: 'Đổi người nói (Alt+R)', onclick: () => this.speakerDialog(si),
        }, M.speakerName(this.t, seg.speaker)),
        spk && spk.role && spk.label ? h('span', { class: 'role' }, M.roleName(spk.role)) : null,
        h('button', { type: 'button', class: 'time', tabindex: '-1', onclick: () => this.jumpTo(seg.start) }, M.clock(seg.start)),
        bookmarked ? h('span', { class: 'bm', title: 'Đã đánh dấu (chỉ bạn thấy)' }, '★') : null,
        markers.map((m) => h('span', { class: 'marker', title: `Mốc của ${m.author}, ${when(m.created_at)}` }, `⚑ ${m.text}`)),
      ),
      text,
      note ? h('div', { class: 'note' }, h('span', { class: 'muted' }, 'Ghi chú riêng: '), note) : null,
    );
  }

  markersIn(si) {
    const seg = this.t.segments[si];
    const next = this.t.segments[si + 1];
    return this.markers.filter((m) => !m.session && m.offset >= (si === 0 ? -Infinity : seg.start) && (!next || m.offset < next.start));
  }

  flatOf(si, wi) {
    // refs are in (si, wi) order: binary search on the pair.
    const refs = this.index.refs;
    let lo = 0;
    let hi = refs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const [s, w] = refs[mid];
      if (s === si && w === wi) return mid;
      if (s < si || (s === si && w < wi)) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  wordEl(si, wi) {
    return document.getElementById(`w${si}_${wi}`);
  }

  click(e) {
    const w = e.target.closest('.w');
    if (!w) return;
    const si = Number(w.dataset.si);
    const wi = Number(w.dataset.wi);
    this.select(si, wi, { scroll: false });
    this.player.seek(this.t.segments[si].words[wi].start);
  }

  /** Selects word (si, wi); `seek` also moves the audio just before it. */
  select(si, wi, { scroll = true, seek = false, center = false } = {}) {
    const segs = this.t.segments;
    if (!segs.length) return;
    si = Math.max(0, Math.min(si, segs.length - 1));
    wi = Math.max(0, Math.min(wi, Math.max(0, segs[si].words.length - 1)));
    const old = this.sel;
    this.sel = { si, wi };
    if (old.si !== si) {
      document.getElementById(`seg${old.si}`)?.classList.remove('current');
      document.getElementById(`seg${si}`)?.classList.add('current');
    }
    this.wordEl(old.si, old.wi)?.classList.remove('sel');
    if (scroll) this.withScroll(() => this.list.show(si, center ? 'center' : 'nearest'));
    const el = this.wordEl(si, wi);
    el?.classList.add('sel');
    document.getElementById(`seg${si}`)?.classList.add('current');
    if (el) this.scroller.setAttribute('aria-activedescendant', el.id);
    if (seek && segs[si].words[wi]) this.player.seek(Math.max(0, segs[si].words[wi].start - 1));
  }

  withScroll(f) {
    this.programmaticScroll = true;
    f();
    requestAnimationFrame(() => {
      this.programmaticScroll = false;
    });
  }

  /** Moves the audio to `t` (seconds from the hearing's start) and selects the word there. */
  jumpTo(t, center = false) {
    this.player.seek(t);
    const k = M.lastAtOrBefore(this.index.starts, t + 0.05);
    if (k >= 0) {
      const [si, wi] = this.index.refs[k];
      this.select(si, wi, { center });
    } else {
      this.select(0, 0, { center });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Playback

  loop() {
    cancelAnimationFrame(this.playRaf);
    const step = () => {
      if (this.closed) return;
      this.tick();
      if (this.player.playing) this.playRaf = requestAnimationFrame(step);
    };
    this.playRaf = requestAnimationFrame(step);
  }

  tick() {
    const t = this.player.time;
    this.clockEl.textContent = `${M.clock(t)} / ${M.clock(this.totalDuration())}`;
    if (document.activeElement !== this.seekBar) this.seekBar.value = String(t);
    const k = M.lastAtOrBefore(this.index.starts, t);
    if (k === this.playIdx) return;
    if (this.playIdx >= 0 && this.index.refs[this.playIdx]) {
      const [s, w] = this.index.refs[this.playIdx];
      this.wordEl(s, w)?.classList.remove('play');
    }
    this.playIdx = k;
    if (k < 0) return;
    const [si, wi] = this.index.refs[k];
    if (this.player.playing && this.follow && !this.editing && Date.now() - this.userScrollAt > FOLLOW_PAUSE_MS) {
      this.withScroll(() => this.list.show(si, 'nearest'));
    }
    this.wordEl(si, wi)?.classList.add('play');
  }

  skip(d) {
    this.player.seek(this.player.time + d);
  }

  speed(d) {
    this.player.rate = this.player.rate + d;
    toast(`Tốc độ phát: ${this.player.rate.toFixed(1).replace('.', ',')}×`);
  }

  /** Typing pauses the audio (so the clerk does not lose what follows); it resumes a second
   *  back when the edit is done. */
  typing() {
    if (this.autoPause && this.player.playing) {
      this.player.pause();
      this.resumeAfterTyping = true;
    }
  }

  doneTyping() {
    if (this.resumeAfterTyping) {
      this.resumeAfterTyping = false;
      this.skip(-1);
      this.player.play();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Editing

  refuse() {
    if (!this.isEditor) toast('Bạn chỉ có quyền đọc biên bản này.', 'error');
    else if (this.approved) {
      toast('Biên bản đã được phê duyệt và khóa: không sửa trực tiếp được. Hãy thêm đính chính bên dưới biên bản.', 'error');
    } else toast('Không sửa được: có bản mới hơn trên máy chủ. Hãy tải lại.', 'error');
    return false;
  }

  editWord(si, wi) {
    if (!this.canEdit) return this.refuse();
    const seg = this.t.segments[si];
    if (!seg || !seg.words[wi]) return this.editSegment(si);
    this.commitEdit();
    this.sel = { si, wi };
    this.editing = { kind: 'word', si, wi };
    this.withScroll(() => this.list.show(si));
    this.list.refresh(si);
    const input = this.scroller.querySelector('.word-edit');
    input?.focus();
    input?.select();
    return true;
  }

  wordEditor(si, wi) {
    const w = this.t.segments[si].words[wi];
    const input = h('input', {
      class: 'word-edit', value: w.text.trim(), size: String(Math.max(4, w.text.length + 2)),
      'aria-label': `Sửa từ “${w.text.trim()}” (Enter lưu, Esc bỏ, Tab lưu và sang từ cần kiểm tra tiếp theo)`,
      spellcheck: 'false',
    });
    input.addEventListener('input', () => {
      input.size = Math.max(4, input.value.length + 2);
      this.typing();
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        e.stopPropagation();
        this.commitEdit();
        this.select(this.sel.si, this.sel.wi, { scroll: false });
      } else if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.cancelEdit();
      } else if (e.key === 'Tab') {
        e.preventDefault();
        e.stopPropagation();
        this.commitEdit();
        this.nextLow(e.shiftKey ? -1 : 1);
      }
    });
    input.addEventListener('blur', () => {
      if (this.editing && this.editing.kind === 'word' && !this.committing) this.commitEdit(false);
    });
    return input;
  }

  editSegment(si) {
    if (!this.canEdit) return this.refuse();
    this.commitEdit();
    this.editing = { kind: 'segment', si };
    this.withScroll(() => this.list.show(si));
    this.list.refresh(si);
    const area = this.scroller.querySelector('.seg-edit');
    area?.focus();
    return true;
  }

  segmentEditor(si) {
    const seg = this.t.segments[si];
    const area = h('textarea', {
      class: 'seg-edit', rows: String(Math.max(2, Math.ceil(seg.text.length / 80))),
      'aria-label': 'Sửa cả đoạn (Enter lưu, Esc bỏ). Các từ không đổi giữ nguyên thời điểm.',
    });
    area.value = seg.text;
    area.addEventListener('input', () => this.typing());
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        e.stopPropagation();
        this.commitEdit();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.cancelEdit();
      }
    });
    area.addEventListener('blur', () => {
      if (this.editing && this.editing.kind === 'segment' && !this.committing) this.commitEdit(false);
    });
    return area;
  }

  /** Applies the open edit, if any. */
  commitEdit(focus = true) {
    const e = this.editing;
    if (!e || this.committing) return;
    this.committing = true;
    try {
      const seg = this.t.segments[e.si];
      if (e.kind === 'word') {
        const input = this.scroller.querySelector('.word-edit');
        const value = input ? input.value : seg.words[e.wi].text;
        this.editing = null;
        if (value.trim() !== seg.words[e.wi].text.trim()) {
          const before = this.t.segments.length;
          const n = M.replaceWord(this.t, e.si, e.wi, value);
          this.sel = { si: Math.min(e.si, this.t.segments.length - 1), wi: Math.max(0, e.wi + n - 1) };
          this.changed(before !== this.t.segments.length ? null : e.si);
        } else {
          this.list.refresh(e.si);
        }
      } else {
        const area = this.scroller.querySelector('.seg-edit');
        const value = area ? area.value : seg.text;
        this.editing = null;
        if (value.trim() !== seg.text) {
          const before = this.t.segments.length;
          M.setSegmentText(this.t, e.si, value);
          this.changed(before !== this.t.segments.length ? null : e.si);
        } else {
          this.list.refresh(e.si);
        }
      }
      if (focus) this.scroller.focus({ preventScroll: true });
      this.doneTyping();
    } finally {
      this.committing = false;
    }
  }

  cancelEdit() {
    const e = this.editing;
    if (!e) return;
    this.editing = null;
    this.list.refresh(e.si);
    this.scroller.focus({ preventScroll: true });
    this.select(this.sel.si, this.sel.wi, { scroll: false });
    this.doneTyping();
  }

  /** After a change: re-render (`si` = the one segment that changed, or null for all) and
   *  schedule the autosave. */
  changed(si) {
    this.index = M.wordIndex(this.t);
    this.playIdx = -1;
    if (si === null) {
      const top = this.scroller.scrollTop;
      this.list.reset(this.t.segments.length, (i) => 30 + 24 * Math.ceil((this.t.segments[i].text.length + 1) / 90));
      this.scroller.scrollTop = top;
      this.list.render();
    } else this.list.refresh(si);
    this.select(this.sel.si, this.sel.wi, { scroll: false });
    this.renderSpeakers();
    this.changeNo++;
    this.dirty = true;
    this.setSaveStatus('Có thay đổi chưa lưu…', 'pending');
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(), AUTOSAVE_MS);
  }

  /** Saves the transcript as a new revision on top of the one it was edited from. Resolves when
   *  the save (and any save it waited for) is done. */
  save() {
    clearTimeout(this.saveTimer);
    if (this.saving) return this.saving.then(() => (this.dirty ? this.save() : undefined));
    if (!this.dirty || this.conflict) return Promise.resolve();
    const no = this.changeNo;
    this.setSaveStatus('Đang lưu…', 'pending');
    this.saving = (async () => {
      try {
        const r = await api(`${this.base}/transcript?base_revision=${this.rev}`, { method: 'PUT', body: this.t });
        this.rev = r.data.number;
        if (this.changeNo === no) this.dirty = false;
        const d = new Date();
        this.setSaveStatus(`Đã lưu bản số ${this.rev} lúc ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`, 'ok');
        if (!this.tabs.history.hidden) this.renderHistory();
      } catch (x) {
        if (x.status === 409) {
          this.conflict = true;
          const frozen = /approved|frozen/.test(x.message);
          this.setSaveStatus('Chưa lưu được', 'error');
          this.showBanner(frozen
            ? 'Biên bản đã được phê duyệt nên thay đổi của bạn không được lưu. Hãy ghi nội dung cần sửa thành đính chính.'
            : `Không lưu được: đã có người lưu bản mới hơn bản số ${this.rev} mà bạn đang sửa. Tải lại để xem bản mới nhất rồi làm lại thay đổi của bạn.`);
          this.renderStatus();
          this.renderSide();
        } else {
          this.setSaveStatus(`Lỗi khi lưu (${x.message}); sẽ thử lại`, 'error');
          this.saveTimer = setTimeout(() => this.save(), 5000);
        }
      } finally {
        this.saving = null;
      }
      if (this.dirty && !this.conflict && !this.closed) this.saveTimer = setTimeout(() => this.save(), AUTOSAVE_MS);
    })();
    return this.saving;
  }

  showBanner(text) {
    fill(this.banner, 
      h('p', {}, text),
      h('button', { type: 'button', class: 'primary', onclick: () => this.reload() }, 'Tải lại bản mới nhất'),
    );
    this.banner.hidden = false;
  }

  async reload() {
    try {
      this.revisions = await get(`${this.base}/revisions`);
      const rev = this.revisions[this.revisions.length - 1].number;
      this.t = await get(`${this.base}/revisions/${rev}`);
      this.rev = rev;
      await this.loadApprovals();
    } catch (x) {
      toast(`Không tải lại được: ${x.message}`, 'error');
      return;
    }
    if (this.closed) return;
    this.dirty = false;
    this.conflict = false;
    this.banner.hidden = true;
    this.setSaveStatus(`Đã tải lại bản số ${this.rev}`);
    this.renderAll();
    this.select(Math.min(this.sel.si, this.t.segments.length - 1), 0);
    this.scroller.focus({ preventScroll: true });
  }

  nextLow(step) {
    const n = M.nextLow(this.t, this.sel.si, this.sel.wi, step);
    if (!n) {
      toast('Không còn từ nào có độ tin cậy thấp.');
      return false;
    }
    this.select(n[0], n[1], { seek: true });
    return true;
  }

  split() {
    if (!this.canEdit) return this.refuse();
    if (M.splitSegment(this.t, this.sel.si, this.sel.wi)) {
      this.sel = { si: this.sel.si + 1, wi: 0 };
      this.changed(null);
      toast('Đã tách đoạn.');
    } else toast('Chọn một từ ở giữa đoạn để tách đoạn trước từ đó.');
    return true;
  }

  merge() {
    if (!this.canEdit) return this.refuse();
    if (M.mergeWithNext(this.t, this.sel.si)) {
      this.changed(null);
      toast('Đã gộp với đoạn sau.');
    } else toast('Đây là đoạn cuối cùng.');
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Keyboard

  key(e) {
    if (this.closed || this.tabs.minutes.hidden) return;
    if (e.target.closest && e.target.closest('dialog')) return;
    const k = e.key;
    const code = e.code;
    const alt = e.altKey && !e.ctrlKey;
    const ctrl = (e.ctrlKey || e.metaKey) && !e.altKey;
    const inField = e.target.matches && e.target.matches('input, textarea, select');
    const take = () => {
      e.preventDefault();
      e.stopPropagation();
    };
    if ((ctrl || alt) && (code === 'Space' || k === ' ')) {
      take();
      return this.player.toggle();
    }
    if (alt && code === 'ArrowLeft') return take(), this.skip(-SKIP_SECS);
    if (alt && code === 'ArrowRight') return take(), this.skip(SKIP_SECS);
    if (alt && code === 'ArrowUp') return take(), this.speed(0.1);
    if (alt && code === 'ArrowDown') return take(), this.speed(-0.1);
    if (ctrl && code === 'KeyS') return take(), this.commitEdit(), this.save();
    if (ctrl && (code === 'KeyF' || code === 'KeyH')) {
      take();
      this.commitEdit(false);
      this.findInput.focus();
      this.findInput.select();
      return;
    }
    if (alt) {
      const actions = {
        KeyN: () => this.nextLow(1),
        KeyP: () => this.nextLow(-1),
        KeyG: () => this.playIdx >= 0 && this.select(...this.index.refs[this.playIdx]),
        KeyJ: () => {
          const w = this.t.segments[this.sel.si]?.words[this.sel.wi];
          if (w) this.player.seek(w.start);
          this.player.play();
        },
        KeyR: () => this.speakerDialog(this.sel.si),
        KeyS: () => this.split(),
        KeyM: () => this.merge(),
        KeyB: () => this.toggleBookmark(this.sel.si),
        KeyC: () => this.editNote(this.sel.si),
      };
      if (actions[code]) {
        take();
        if (code !== 'KeyN' && code !== 'KeyP') this.commitEdit();
        else this.commitEdit(true);
        actions[code]();
        return;
      }
    }
    if (inField || !this.scroller.contains(e.target)) return;
    const { si, wi } = this.sel;
    const segs = this.t.segments;
    if (k === 'Tab') {
      if (M.nextLow(this.t, si, wi, e.shiftKey ? -1 : 1)) {
        take();
        this.nextLow(e.shiftKey ? -1 : 1);
      }
      return;
    }
    if (e.ctrlKey || e.altKey || e.metaKey) return;
    if (k === 'ArrowRight') {
      take();
      if (wi + 1 < (segs[si]?.words.length || 0)) this.select(si, wi + 1);
      else if (si + 1 < segs.length) this.select(si + 1, 0);
    } else if (k === 'ArrowLeft') {
      take();
      if (wi > 0) this.select(si, wi - 1);
      else if (si > 0) this.select(si - 1, segs[si - 1].words.length - 1);
    } else if (k === 'ArrowDown') {
      take();
      this.select(si + 1, 0);
    } else if (k === 'ArrowUp') {
      take();
      this.select(si - 1, 0);
    } else if (k === 'Home') {
      take();
      this.select(si, 0);
    } else if (k === 'End') {
      take();
      this.select(si, (segs[si]?.words.length || 1) - 1);
    } else if ((k === 'Enter' || k === 'F2') && e.shiftKey) {
      take();
      this.editSegment(si);
    } else if (k === 'Enter' || k === 'F2') {
      take();
      this.editWord(si, wi);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Speakers

  speakerDialog(si) {
    if (!this.canEdit) return this.refuse();
    const seg = this.t.segments[si];
    if (!seg) return false;
    const current = M.speakerName(this.t, seg.speaker);
    const info = M.speakerInfo(this.t, seg.speaker);
    const options = [
      ...new Set([
        ...(this.t.speakers || []).map((s) => s.label).filter(Boolean),
        ...this.hearing.participants.map((p) => p.name),
      ]),
    ];
    const name = h('input', { id: 'spk-name', list: 'spk-options', value: info && info.label ? info.label : '', required: true, autocomplete: 'off' });
    const role = roleSelect(info && info.role, 'spk-role');
    const everywhere = h('input', { type: 'radio', name: 'scope', value: 'all', id: 'scope-all', checked: true });
    const one = h('input', { type: 'radio', name: 'scope', value: 'one', id: 'scope-one' });
    name.addEventListener('input', () => {
      const p = this.hearing.participants.find((x) => x.name === name.value);
      if (p) role.value = M.ROLES.some(([c]) => c === p.role) ? p.role : '';
    });
    const dialog = h('dialog', { class: 'speaker-dialog', 'aria-labelledby': 'spk-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'spk-title' }, 'Đổi người nói'),
        h('p', { class: 'muted' }, `Đoạn lúc ${M.clock(seg.start)}, hiện là: ${current}`),
        h('label', { for: 'spk-name' }, 'Tên trong biên bản'), name,
        h('datalist', { id: 'spk-options' }, options.map((o) => h('option', { value: o }))),
        h('label', { for: 'spk-role' }, 'Tư cách tham gia tố tụng'), role,
        h('fieldset', {}, h('legend', {}, 'Áp dụng cho'),
          h('label', { class: 'check' }, everywhere, `mọi đoạn của “${current}”`),
          h('label', { class: 'check' }, one, 'chỉ đoạn này')),
        h('div', { class: 'row' },
          h('button', { type: 'submit', class: 'primary', value: 'ok' }, 'Đổi'),
          h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Hủy')),
      ));
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      const ok = dialog.returnValue === 'ok' && name.value.trim();
      dialog.remove();
      if (ok) {
        if (one.checked) M.setSegmentSpeaker(this.t, si, name.value, role.value || undefined);
        else M.renameSpeaker(this.t, seg.speaker, name.value, role.value || undefined);
        this.changed(null);
        toast(one.checked ? 'Đã đổi người nói của đoạn này.' : `Đã đổi “${current}” thành “${name.value.trim()}” ở mọi đoạn.`);
      }
      this.scroller.focus({ preventScroll: true });
      this.select(this.sel.si, this.sel.wi, { scroll: false });
    });
    dialog.showModal();
    name.focus();
    name.select();
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // Side panels

  renderSide() {
    this.speakersBox = h('div', { id: 'speakers' });
    this.approvalBox = h('div', { id: 'approval' });
    this.notesBox = h('div', { id: 'notes' });
    const notes = panel('Ghi chú riêng và đánh dấu', this.notesBox, this.isEditor);
    fill(this.side,
      this.isEditor ? null : notes,
      panel('Phê duyệt', this.approvalBox),
      panel('Xuất biên bản', this.exports()),
      panel('Người nói', this.speakersBox),
      panel(this.canEdit ? 'Tìm và thay thế' : 'Tìm trong biên bản', this.findPanel()),
      panel('Mốc của thư ký', this.markersPanel(), this.markers.length === 0),
      this.isEditor ? notes : null,
      panel('Phím tắt', shortcutsTable(), !this.canEdit),
    );
    this.renderApproval();
    this.renderSpeakers();
    this.renderNotes();
  }

  renderApproval() {
    const box = this.approvalBox;
    const list = this.approvals.length
      ? h('ul', { class: 'approvals' }, this.approvals.map((a) =>
        h('li', {}, `${a.role === 'judge' ? 'Chủ tọa' : 'Thư ký'} ${a.username} ${a.role === 'judge' ? 'phê duyệt' : 'ký xác nhận'} bản số ${a.revision} — ${when(a.created_at)}`)))
      : h('p', { class: 'muted' }, 'Chưa ai phê duyệt. Chủ tọa phê duyệt trước, thư ký ký xác nhận sau; sau khi phê duyệt, biên bản bị khóa và mọi sửa đổi là đính chính.');
    const actions = h('div', { class: 'row' });
    const me = this.s.username;
    const signed = this.approvals.some((a) => a.username === me);
    if (this.s.role === 'judge' && !this.approved) {
      const confirm = h('div', { class: 'confirm', hidden: true },
        h('p', {}, 'Phê duyệt bản hiện tại? Sau khi phê duyệt, biên bản bị khóa: không ai sửa trực tiếp được nữa, chỉ thêm đính chính.'),
        h('button', { type: 'button', class: 'primary', id: 'approve-confirm', onclick: () => this.approve() }, 'Xác nhận phê duyệt'),
        h('button', { type: 'button', onclick: () => { confirm.hidden = true; } }, 'Hủy'));
      actions.append(h('button', {
        type: 'button', class: 'primary', id: 'approve',
        onclick: () => { confirm.hidden = false; confirm.querySelector('#approve-confirm').focus(); },
      }, 'Phê duyệt biên bản'), confirm);
    } else if (this.s.role === 'secretary' && this.approved && !signed) {
      actions.append(h('button', { type: 'button', class: 'primary', id: 'cosign', onclick: () => this.approve() }, 'Ký xác nhận (thư ký)'));
    }
    fill(box, 
      this.approved ? h('p', { class: 'approved-note' }, h('strong', {}, 'Đã phê duyệt.'), ' Biên bản đã khóa.') : null,
      list, actions);
  }

  async approve() {
    try {
      this.commitEdit(false);
      await this.save();
      if (this.conflict || this.dirty) {
        toast('Hãy lưu được các thay đổi trước khi phê duyệt.', 'error');
        return;
      }
      await api(`${this.base}/approve`, { method: 'POST', body: {} });
      await this.loadApprovals();
      toast(this.s.role === 'judge' ? 'Đã phê duyệt biên bản; biên bản đã khóa.' : 'Đã ký xác nhận.');
      this.renderAll();
      this.select(this.sel.si, this.sel.wi, { scroll: false });
    } catch (x) {
      toast(`Không phê duyệt được: ${x.message}`, 'error');
    }
  }

  renderSpeakers() {
    if (!this.speakersBox) return;
    const ids = M.speakerIds(this.t);
    const counts = new Map();
    for (const s of this.t.segments) counts.set(s.speaker ?? null, (counts.get(s.speaker ?? null) || 0) + 1);
    if (!ids.length) {
      fill(this.speakersBox, h('p', { class: 'muted' }, 'Chưa có người nói.'));
      return;
    }
    if (!this.canEdit) {
      fill(this.speakersBox, h('ul', { class: 'speaker-list' }, ids.map((id) => {
        const info = M.speakerInfo(this.t, id);
        return h('li', {}, h('strong', {}, M.speakerName(this.t, id)),
          info && info.role && info.label ? ` — ${M.roleName(info.role)}` : '',
          h('span', { class: 'muted' }, ` (${id || 'chưa gán'}, ${counts.get(id) || 0} đoạn)`));
      })));
      return;
    }
    fill(this.speakersBox,
      h('p', { class: 'muted' }, 'Gán mỗi người nói cho một người tham gia phiên tòa; tên và tư cách được dùng trong biên bản.'),
      ids.map((id, n) => {
        const info = M.speakerInfo(this.t, id);
        const label = h('input', { value: info && info.label ? info.label : '', id: `spk-label-${n}`, disabled: !this.canEdit, autocomplete: 'off' });
        const role = roleSelect(info && info.role, `spk-role-${n}`);
        role.disabled = !this.canEdit;
        const who = h('select', { id: `spk-part-${n}`, disabled: !this.canEdit || !this.hearing.participants.length },
          h('option', { value: '' }, this.hearing.participants.length ? '— chọn người tham gia —' : '(phiên tòa chưa khai báo người tham gia)'),
          this.hearing.participants.map((p, k) => h('option', { value: String(k), selected: !!info && info.label === p.name }, `${p.name} (${M.roleName(p.role)})`)));
        who.addEventListener('change', () => {
          const p = this.hearing.participants[Number(who.value)];
          if (!p) return;
          label.value = p.name;
          role.value = M.ROLES.some(([c]) => c === p.role) ? p.role : '';
        });
        const apply = h('button', {
          type: 'button', disabled: !this.canEdit,
          onclick: () => {
            if (!this.canEdit) return this.refuse();
            M.renameSpeaker(this.t, id, label.value, role.value);
            this.changed(null);
            toast(`Đã cập nhật người nói ở ${counts.get(id) || 0} đoạn.`);
          },
        }, 'Áp dụng cho mọi đoạn');
        return h('div', { class: 'speaker' },
          h('p', {}, h('strong', {}, M.speakerName(this.t, id)), h('span', { class: 'muted' }, ` · ${id || 'chưa gán'} · ${counts.get(id) || 0} đoạn`)),
          h('label', { for: label.id }, 'Tên trong biên bản'), label,
          h('label', { for: role.id }, 'Tư cách'), role,
          h('label', { for: who.id }, 'Người tham gia'), who,
          apply);
      }),
    );
  }

  exports() {
    const link = (format, name) => h('a', {
      class: 'button', href: withToken(`${this.base}/export?format=${format}`), download: '', id: `export-${format}`,
      onclick: async (e) => {
        if (!this.dirty) return;
        e.preventDefault();
        await this.save();
        location.href = e.currentTarget.href;
      },
    }, name);
    return h('div', {},
      h('div', { class: 'row wrap' }, link('docx', 'DOCX (biên bản)'), link('pdf', 'PDF (biên bản)'), link('srt', 'SRT'), link('vtt', 'WebVTT'), link('json', 'JSON')),
      h('p', { class: 'muted' }, 'Bản đã phê duyệt (nếu có), kèm các đính chính.'));
  }

  findPanel() {
    this.findInput = h('input', { id: 'find', type: 'search', autocomplete: 'off', placeholder: 'ví dụ: bi cao' });
    const repl = h('input', { id: 'replace', autocomplete: 'off' });
    const loose = h('input', { type: 'checkbox', id: 'find-loose', checked: true });
    const out = h('p', { class: 'muted', 'aria-live': 'polite' });
    let hits = [];
    let at = -1;
    const run = () => {
      hits = M.find(this.t, this.findInput.value, loose.checked);
      at = -1;
      out.textContent = this.findInput.value ? `${hits.length} chỗ` : '';
    };
    const next = () => {
      if (!hits.length) run();
      if (!hits.length) return;
      at = (at + 1) % hits.length;
      const hit = hits[at];
      const prev = this.found;
      this.found = hit;
      if (prev) this.list.refresh(prev.si);
      this.select(hit.si, 0, { center: true });
      this.list.refresh(hit.si);
      out.textContent = `${at + 1}/${hits.length} chỗ`;
    };
    this.findInput.addEventListener('input', run);
    loose.addEventListener('change', run);
    this.findInput.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        next();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        this.scroller.focus({ preventScroll: true });
      }
    });
    const replaceAll = () => {
      if (!this.canEdit) return this.refuse();
      const n = M.replaceAll(this.t, this.findInput.value, repl.value, loose.checked);
      this.found = null;
      if (n) this.changed(null);
      toast(n ? `Đã thay ${n} chỗ.` : 'Không có chỗ nào để thay.');
      run();
      return true;
    };
    repl.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        replaceAll();
      }
    });
    return h('div', { class: 'find' },
      h('label', { for: 'find' }, 'Tìm (Enter: chỗ tiếp theo)'), this.findInput,
      this.canEdit ? [h('label', { for: 'replace' }, 'Thay bằng (Enter: thay tất cả)'), repl] : null,
      h('label', { class: 'check' }, loose, 'Bỏ qua dấu và hoa thường'),
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: next }, 'Tìm tiếp'),
        this.canEdit ? h('button', { type: 'button', onclick: replaceAll }, 'Thay tất cả') : null),
      out);
  }

  markersPanel() {
    if (!this.markers.length) return h('p', { class: 'muted' }, 'Không có mốc nào.');
    return h('ul', { class: 'markers' }, this.markers.map((m) =>
      h('li', {}, h('button', {
        type: 'button', class: 'link', disabled: !!m.session,
        onclick: () => this.jumpTo(m.offset, true),
      }, `⚑ ${M.clock(m.offset)}`), ` ${m.text} `, h('span', { class: 'muted' }, `— ${m.author}${m.session ? ' (phiên trực tiếp)' : ''}`))));
  }

  // -------------------------------------------------------------------------------------------
  // Private notes and bookmarks (this browser only)

  notesKey() {
    return `courtscribe.notes.${this.s.username}.hearing${this.id}`;
  }

  loadNotes() {
    try {
      const v = JSON.parse(localStorage.getItem(this.notesKey()) || '{}');
      return { bookmarks: v.bookmarks || {}, notes: v.notes || {} };
    } catch {
      return { bookmarks: {}, notes: {} };
    }
  }

  storeNotes() {
    localStorage.setItem(this.notesKey(), JSON.stringify(this.notes));
    this.renderNotes();
  }

  toggleBookmark(si) {
    const seg = this.t.segments[si];
    if (!seg) return;
    const key = segKey(seg);
    if (this.notes.bookmarks[key] !== undefined) {
      delete this.notes.bookmarks[key];
      toast('Đã bỏ đánh dấu.');
    } else {
      this.notes.bookmarks[key] = seg.text.slice(0, 80);
      toast('Đã đánh dấu đoạn (chỉ lưu trên trình duyệt này).');
    }
    this.storeNotes();
    this.list.refresh(si);
  }

  editNote(si) {
    const seg = this.t.segments[si];
    if (!seg) return;
    this.noteTarget = si;
    this.renderNotes();
    this.notesBox.closest('details').open = true;
    this.noteArea.focus();
  }

  renderNotes() {
    if (!this.notesBox) return;
    const si = this.noteTarget ?? this.sel.si;
    const seg = this.t.segments[si];
    const key = seg ? segKey(seg) : '';
    this.noteArea = h('textarea', { id: 'note', rows: '3', 'aria-label': 'Ghi chú riêng cho đoạn đang chọn' });
    this.noteArea.value = this.notes.notes[key] || '';
    const saveNote = () => {
      const v = this.noteArea.value.trim();
      if (v) this.notes.notes[key] = v;
      else delete this.notes.notes[key];
      this.storeNotes();
      this.list.refresh(si);
      toast('Đã lưu ghi chú riêng.');
      this.scroller.focus({ preventScroll: true });
    };
    this.noteArea.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || !e.shiftKey)) {
        e.preventDefault();
        saveNote();
      } else if (e.key === 'Escape') this.scroller.focus({ preventScroll: true });
    });
    const bookmarks = Object.entries(this.notes.bookmarks).sort((a, b) => Number(a[0]) - Number(b[0]));
    const notes = Object.entries(this.notes.notes).sort((a, b) => Number(a[0]) - Number(b[0]));
    fill(this.notesBox, 
      h('p', { class: 'muted privacy' }, 'Ghi chú và đánh dấu chỉ lưu trên trình duyệt này (localStorage), không gửi lên máy chủ và không ai khác thấy. Xóa dữ liệu trình duyệt sẽ mất chúng.'),
      seg ? h('label', { for: 'note' }, `Ghi chú cho đoạn lúc ${M.clock(seg.start)} (Enter lưu)`) : null,
      this.noteArea,
      h('div', { class: 'row' },
        h('button', { type: 'button', onclick: saveNote }, 'Lưu ghi chú'),
        h('button', { type: 'button', onclick: () => this.toggleBookmark(si) }, 'Đánh dấu / bỏ đánh dấu')),
      bookmarks.length ? h('h3', {}, 'Đánh dấu') : null,
      h('ul', { class: 'bookmarks' }, bookmarks.map(([t, text]) =>
        h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => this.jumpTo(Number(t), true) }, `★ ${M.clock(Number(t))}`), ` ${text}`))),
      notes.length ? h('h3', {}, 'Ghi chú') : null,
      h('ul', { class: 'bookmarks' }, notes.map(([t, text]) =>
        h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => this.jumpTo(Number(t), true) }, M.clock(Number(t))), ` ${text}`))),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Amendments (after approval)

  renderAmendments() {
    const box = this.amendBox;
    const capacity = (role) => (role === 'judge' ? 'Chủ tọa' : 'Thư ký');
    const items = this.amendments.map((a, k) => {
      // The other of the two signs: the clerk a judge's amendment, the judge a clerk's.
      const signer = a.author_role === 'judge' ? 'secretary' : 'judge';
      const status = a.signature
        ? h('p', { class: 'cosign signed' }, `✓ Đã ký xác nhận bởi ${capacity(a.signature.role)} ${a.signature.username}, ${when(a.signature.created_at)}`)
        : h('p', { class: 'cosign' }, `Chưa ký xác nhận — chờ ${capacity(signer).toLowerCase()} ký`,
          this.s.role === signer
            ? h('button', { type: 'button', class: 'primary', id: `sign-amendment-${a.id}`, onclick: () => this.signAmendment(a.id) },
              `Ký xác nhận (${capacity(signer).toLowerCase()})`)
            : null);
      return h('li', { class: 'amendment' },
        h('p', { class: 'by' }, `Đính chính ${k + 1} — ${capacity(a.author_role)} ${a.author}, ${when(a.created_at)}`),
        h('p', { class: 'text' }, a.text),
        status);
    });
    let form = null;
    if (this.approved && this.isEditor) {
      const text = h('textarea', { id: 'amendment-text', rows: '2', required: true });
      form = h('form', {
        class: 'amend-form',
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api(`${this.base}/amendments`, { method: 'POST', body: { text: text.value } });
            this.amendments = await get(`${this.base}/amendments`);
            this.renderAmendments();
            toast('Đã thêm đính chính.');
          } catch (x) {
            toast(`Không thêm được đính chính: ${x.message}`, 'error');
          }
        },
      },
        h('label', { for: 'amendment-text' }, 'Nội dung đính chính (ghi kèm tên bạn và thời điểm)'), text,
        h('button', { type: 'submit', class: 'primary', id: 'add-amendment' }, 'Thêm đính chính'));
    }
    fill(box, 
      h('h2', { id: 'amend-title' }, 'Đính chính sau khi phê duyệt'),
      items.length ? h('ol', { class: 'amendment-list' }, items)
        : h('p', { class: 'muted' }, this.approved ? 'Chưa có đính chính.' : 'Trước khi phê duyệt, sửa trực tiếp trong biên bản; sau khi phê duyệt, mọi sửa đổi được ghi thành đính chính ở đây.'),
      form);
    box.hidden = !this.approved && !items.length;
  }

  async signAmendment(id) {
    try {
      await api(`${this.base}/amendments/${id}/sign`, { method: 'POST', body: {} });
      this.amendments = await get(`${this.base}/amendments`);
      this.renderAmendments();
      toast('Đã ký xác nhận đính chính.');
    } catch (x) {
      toast(`Không ký xác nhận được: ${x.message}`, 'error');
    }
  }

  // -------------------------------------------------------------------------------------------
  // Tabs: history, live

  showTab(name) {
    if (!this.tabs[name]) return;
    if (this.editing) this.commitEdit(false);
    for (const [k, el] of Object.entries(this.tabs)) {
      el.hidden = k !== name;
      this.tabButtons[k].setAttribute('aria-selected', String(k === name));
    }
    if (name === 'history') this.renderHistory();
    if (name === 'live') this.startLive(this.tabs.live);
    else if (this.source) {
      this.source.close();
      this.source = null;
    }
    if (name === 'minutes') {
      this.list.render();
      this.scroller.focus({ preventScroll: true });
    }
  }

  async renderHistory() {
    const box = this.tabs.history;
    this.revisions = await get(`${this.base}/revisions`);
    const approvedRev = this.approvals.find((a) => a.role === 'judge')?.revision;
    const last = this.revisions[this.revisions.length - 1].number;
    const pick = (id, value) => h('select', { id }, this.revisions.map((r) =>
      h('option', { value: String(r.number), selected: r.number === value }, `Bản ${r.number}`)));
    const from = pick('diff-from', 1);
    const to = pick('diff-to', approvedRev || last);
    const out = h('div', { class: 'diff', id: 'diff', 'aria-live': 'polite' });
    const compare = async () => {
      fill(out, h('p', { class: 'loading' }, 'Đang so sánh…'));
      try {
        const parts = await get(`${this.base}/diff?from=${from.value}&to=${to.value}`);
        const changes = parts.filter((p) => p.op !== 'equal').length;
        fill(out, 
          h('p', { class: 'muted' }, changes ? `${changes} chỗ khác nhau. Chữ gạch là bị bỏ, chữ nền xanh là được thêm.` : 'Hai bản giống nhau.'),
          h('p', { class: 'diff-text' }, parts.map((p) =>
            p.op === 'equal' ? p.text : h(p.op === 'delete' ? 'del' : 'ins', {}, p.text))));
      } catch (x) {
        fill(out, h('p', { class: 'error' }, x.message));
      }
    };
    const kinds = { asr: 'Bản nháp tự động (nhận dạng giọng nói)', edit: 'Sửa' };
    fill(box, 
      h('h2', {}, 'Các bản của biên bản'),
      h('p', { class: 'muted' }, 'Mỗi lần lưu là một bản mới; bản nháp tự động (bản 1) luôn được giữ. Không bản nào bị ghi đè.'),
      h('table', { class: 'revisions' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Bản'), h('th', {}, 'Loại'), h('th', {}, 'Người lưu'), h('th', {}, 'Thời điểm'), h('th', {}, ''))),
        h('tbody', {}, this.revisions.map((r) => h('tr', {},
          h('td', {}, String(r.number)),
          h('td', {}, kinds[r.kind] || r.kind),
          h('td', {}, r.author),
          h('td', {}, when(r.created_at)),
          h('td', {}, r.number === approvedRev ? h('span', { class: 'badge approved' }, 'Đã phê duyệt') : r.number === this.rev ? 'bản đang mở' : ''))))),
      h('h2', {}, 'So sánh hai bản'),
      h('div', { class: 'row' },
        h('label', { for: 'diff-from' }, 'Từ'), from,
        h('label', { for: 'diff-to' }, 'đến'), to,
        h('button', { type: 'button', class: 'primary', id: 'compare', onclick: compare }, 'So sánh')),
      out);
    if (this.revisions.length > 1) compare();
  }

  liveOnly() {
    const box = h('div', { class: 'live-only' });
    this.startLive(box);
    return box;
  }

  startLive(box) {
    if (this.source) this.source.close();
    const state = h('p', { class: 'muted', id: 'live-state' }, 'Đang kết nối…');
    const list = h('ol', { class: 'captions', id: 'captions', 'aria-live': 'polite' });
    const partial = h('p', { class: 'partial', id: 'partial' });
    fill(box, 
      h('h2', {}, 'Phụ đề trực tiếp'),
      h('p', { class: 'muted' }, 'Lời nói trong phòng xử án hiện ra ở đây khi phiên tòa đang diễn ra. Đây là bản nhận dạng tự động, chưa phải biên bản.'),
      state, list, partial);
    const source = new EventSource(withToken(`${this.base}/captions`));
    this.source = source;
    source.onopen = () => {
      state.textContent = 'Đã kết nối. Đang chờ lời nói…';
    };
    source.onerror = () => {
      state.textContent = 'Mất kết nối; đang thử lại…';
    };
    source.addEventListener('caption', (e) => {
      const c = JSON.parse(e.data);
      state.textContent = 'Đang nhận phụ đề.';
      if (c.kind === 'partial') {
        partial.textContent = `${M.clock(c.start)} … ${c.text}`;
        return;
      }
      if (c.kind === 'final') partial.textContent = '';
      list.append(h('li', { class: c.kind },
        h('span', { class: 'time' }, M.clock(c.start)),
        c.kind === 'marker' ? h('strong', {}, `⚑ ${c.text}`) : c.text));
      list.lastElementChild.scrollIntoView({ block: 'nearest' });
    });
  }
}

function segKey(seg) {
  return seg.start.toFixed(2);
}

function panel(title, body, closed = false) {
  return h('details', { class: 'panel', open: !closed }, h('summary', {}, title), body);
}

function roleSelect(value, id) {
  return h('select', { id },
    h('option', { value: '' }, '— tư cách —'),
    M.ROLES.map(([code, name]) => h('option', { value: code, selected: code === value }, name)));
}

function shortcutsTable() {
  return h('div', {},
    h('table', { class: 'shortcuts' }, h('tbody', {}, SHORTCUTS.map(([k, d]) => h('tr', {}, h('th', {}, h('kbd', {}, k)), h('td', {}, d))))),
    h('p', { class: 'muted' }, 'Nhấp vào một từ để nghe từ đó. Từ gạch chân màu cam có độ tin cậy dưới 60%: nên nghe lại.'));
}
