// Operations on the transcript JSON (the server's `Transcript`: segments of words with times in
// seconds from the start of the hearing's audio, speakers). Pure functions without the DOM, so
// they run in Node's test runner too. Every edit keeps the times of the words it does not touch;
// a segment's text is always its words joined, as the transcriber writes it.

/** Words whose probability is under this are shown for checking (độ tin cậy thấp). */
export const LOW_CONFIDENCE = 0.6;

/** Probability given to a word a person typed: it is no longer a guess. */
const HUMAN = 1;

export const ROLES = [
  ['CHU_TOA', 'Chủ tọa phiên tòa'],
  ['THAM_PHAN', 'Thẩm phán'],
  ['HOI_THAM', 'Hội thẩm nhân dân'],
  ['THU_KY', 'Thư ký phiên tòa'],
  ['KIEM_SAT_VIEN', 'Kiểm sát viên'],
  ['BI_CAO', 'Bị cáo'],
  ['NGUYEN_DON', 'Nguyên đơn'],
  ['BI_DON', 'Bị đơn'],
  ['LUAT_SU', 'Luật sư'],
  ['NHAN_CHUNG', 'Người làm chứng'],
  ['NGUOI_BI_HAI', 'Người bị hại'],
  ['PHIEN_DICH', 'Người phiên dịch'],
];

export function roleName(code) {
  const r = ROLES.find(([c]) => c === code);
  return r ? r[1] : code || '';
}

export const isLow = (w) => typeof w.probability === 'number' && w.probability < LOW_CONFIDENCE;

/** Lower case without diacritics (đ → d): "Bị cáo" → "bi cao". Keeps one character per
 *  character of NFC Vietnamese text, so positions in the folded text are positions in the text. */
export function fold(s) {
  let out = '';
  for (const ch of s.normalize('NFC')) {
    const f = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[đĐ]/g, 'd').toLowerCase();
    out += f.length === ch.length ? f : ch.toLowerCase();
  }
  return out;
}

const tokens = (text) => text.normalize('NFC').trim().split(/\s+/).filter(Boolean);

function retext(seg) {
  if (seg.words.length) seg.text = seg.words.map((w) => w.text).join('').trim();
}

function renumber(t) {
  t.segments.forEach((s, i) => {
    s.id = i;
  });
}

/** New words for `toks` spread over [start, end] in proportion to their length. */
function spread(toks, start, end, speaker) {
  const total = toks.reduce((n, k) => n + k.length, 0) || 1;
  let at = start;
  return toks.map((k, i) => {
    const len = ((end - start) * k.length) / total;
    const w = { start: at, end: i === toks.length - 1 ? end : at + len, text: ` ${k}`, probability: HUMAN };
    if (speaker) w.speaker = speaker;
    at = w.end;
    return w;
  });
}

/** Replaces word `wi` of segment `si` by `text` (one or more words; empty deletes it). The other
 *  words keep their times; the new words share the replaced word's time. */
export function replaceWord(t, si, wi, text) {
  const seg = t.segments[si];
  const old = seg.words[wi];
  const toks = tokens(text);
  const fresh = spread(toks, old.start, old.end, old.speaker ?? seg.speaker);
  seg.words.splice(wi, 1, ...fresh);
  if (!seg.words.length) {
    t.segments.splice(si, 1);
    renumber(t);
  } else {
    retext(seg);
  }
  return fresh.length;
}

/** Sets a segment's whole text: the new words are aligned to the old ones (longest common
 *  subsequence); unchanged words keep their times and probabilities, changed runs share the time
 *  of the words they replace, and inserted words take no time at their place. */
export function setSegmentText(t, si, text) {
  const seg = t.segments[si];
  const toks = tokens(text);
  if (!seg.words.length) {
    seg.text = toks.join(' ');
    return;
  }
  const old = seg.words.map((w) => w.text.trim());
  const n = old.length;
  const m = toks.length;
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i][j] = old[i] === toks[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  let gapOld = [];
  let gapNew = [];
  const flush = () => {
    if (!gapOld.length && !gapNew.length) return;
    let start;
    let end;
    if (gapOld.length) {
      start = seg.words[gapOld[0]].start;
      end = seg.words[gapOld[gapOld.length - 1]].end;
    } else {
      start = out.length ? out[out.length - 1].end : seg.words[0].start;
      end = start;
    }
    const speaker = gapOld.length ? seg.words[gapOld[0]].speaker : seg.speaker;
    out.push(...spread(gapNew, start, end, speaker ?? seg.speaker));
    gapOld = [];
    gapNew = [];
  };
  while (i < n || j < m) {
    if (i < n && j < m && old[i] === toks[j]) {
      flush();
      out.push(seg.words[i]);
      i++;
      j++;
    } else if (j < m && (i >= n || L[i][j + 1] >= L[i + 1][j])) {
      gapNew.push(toks[j++]);
    } else {
      gapOld.push(i++);
    }
  }
  flush();
  seg.words = out;
  if (!out.length) {
    t.segments.splice(si, 1);
    renumber(t);
  } else {
    retext(seg);
  }
}

/** Splits segment `si` before word `wi` (0 < wi < words): two segments, same speaker. */
export function splitSegment(t, si, wi) {
  const seg = t.segments[si];
  if (wi <= 0 || wi >= seg.words.length) return false;
  const second = { ...seg, words: seg.words.slice(wi), start: seg.words[wi].start };
  seg.words = seg.words.slice(0, wi);
  seg.end = Math.max(seg.start, seg.words[seg.words.length - 1].end);
  second.start = Math.max(second.start, seg.start);
  retext(seg);
  retext(second);
  t.segments.splice(si + 1, 0, second);
  renumber(t);
  return true;
}

/** Merges segment `si` with the one after it; the merged segment keeps the first one's speaker. */
export function mergeWithNext(t, si) {
  const a = t.segments[si];
  const b = t.segments[si + 1];
  if (!b) return false;
  for (const w of b.words) {
    if (a.speaker) w.speaker = a.speaker;
    else delete w.speaker;
  }
  a.words = a.words.concat(b.words);
  a.end = Math.max(a.end, b.end);
  if (a.words.length) retext(a);
  else a.text = `${a.text} ${b.text}`.trim();
  t.segments.splice(si + 1, 1);
  renumber(t);
  return true;
}

export function speakerInfo(t, id) {
  if (!id) return null;
  return (t.speakers || []).find((s) => s.id === id) || { id };
}

/** What the minutes call a speaker: its label, else its role's name, else its id. */
export function speakerName(t, id) {
  const s = speakerInfo(t, id);
  if (!s) return 'Chưa rõ người nói';
  return s.label || (s.role ? roleName(s.role) : '') || s.id.replace(/^SPEAKER_/, 'Người nói ');
}

function ensureSpeaker(t, id) {
  t.speakers = t.speakers || [];
  let s = t.speakers.find((x) => x.id === id);
  if (!s) {
    s = { id };
    t.speakers.push(s);
  }
  return s;
}

function freshId(t, role) {
  const used = new Set([...(t.speakers || []).map((s) => s.id), ...t.segments.map((s) => s.speaker)]);
  if (role && !used.has(role)) return role;
  let n = 1;
  while (used.has(`SPEAKER_${n}`)) n++;
  return `SPEAKER_${n}`;
}

function assign(seg, id) {
  seg.speaker = id;
  for (const w of seg.words) w.speaker = id;
}

/** Renames speaker `id` everywhere it speaks (its label and role). Segments without a speaker
 *  count as one unnamed speaker: naming it gives them all a new speaker id. Returns the id. */
export function renameSpeaker(t, id, label, role) {
  if (!id) {
    id = freshId(t, role);
    for (const seg of t.segments) if (!seg.speaker) assign(seg, id);
  }
  const s = ensureSpeaker(t, id);
  if (label !== undefined) {
    if (label) s.label = label.normalize('NFC').trim();
    else delete s.label;
  }
  if (role !== undefined) {
    if (role) s.role = role;
    else delete s.role;
  }
  return id;
}

/** Gives segment `si` alone the speaker named `label` (an existing speaker of that name, or a
 *  new one). Returns the id. */
export function setSegmentSpeaker(t, si, label, role) {
  const name = label.normalize('NFC').trim();
  let s = (t.speakers || []).find(
    (x) => (name && fold(x.label || '') === fold(name)) || (!name && role && x.role === role),
  );
  if (!s) {
    s = ensureSpeaker(t, freshId(t, role));
    if (name) s.label = name;
    if (role) s.role = role;
  }
  assign(t.segments[si], s.id);
  return s.id;
}

/** Every speaker id used in the transcript, in order of first appearance. */
export function speakerIds(t) {
  const ids = [];
  for (const s of t.speakers || []) if (!ids.includes(s.id)) ids.push(s.id);
  for (const seg of t.segments) if (!ids.includes(seg.speaker ?? null)) ids.push(seg.speaker ?? null);
  return ids.filter((id) => id !== null || t.segments.some((s) => !s.speaker));
}

/** Occurrences of `query` in segment texts: [{si, at, len}]. `loose` ignores diacritics and case. */
export function find(t, query, loose = true) {
  const q = loose ? fold(query) : query.normalize('NFC');
  if (!q) return [];
  const hits = [];
  t.segments.forEach((seg, si) => {
    const text = loose ? fold(seg.text) : seg.text;
    for (let at = text.indexOf(q); at >= 0; at = text.indexOf(q, at + q.length)) {
      hits.push({ si, at, len: q.length });
    }
  });
  return hits;
}

/** Replaces every occurrence; returns how many. Times of untouched words are kept. */
export function replaceAll(t, query, replacement, loose = false) {
  const hits = find(t, query, loose);
  const bySegment = new Map();
  for (const h of hits) bySegment.set(h.si, [...(bySegment.get(h.si) || []), h]);
  for (const [si, hs] of bySegment) {
    let text = t.segments[si].text;
    for (const h of hs.reverse()) text = text.slice(0, h.at) + replacement + text.slice(h.at + h.len);
    setSegmentText(t, si, text);
  }
  return hits.length;
}

/** Word starts in time order, for finding the word being played: {starts, refs: [[si, wi]]}. */
export function wordIndex(t) {
  const starts = [];
  const refs = [];
  t.segments.forEach((seg, si) =>
    seg.words.forEach((w, wi) => {
      starts.push(w.start);
      refs.push([si, wi]);
    }),
  );
  return { starts, refs };
}

/** Index of the last entry of sorted `starts` at or before `time` (-1 when none). */
export function lastAtOrBefore(starts, time) {
  let lo = 0;
  let hi = starts.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (starts[mid] <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The next low-confidence word after (si, wi), wrapping around; null when there is none. */
export function nextLow(t, si, wi, step = 1) {
  const flat = [];
  t.segments.forEach((seg, s) => seg.words.forEach((w, k) => flat.push([s, k, w])));
  if (!flat.length) return null;
  let start = flat.findIndex(([s, k]) => s === si && k === wi);
  if (start < 0) start = step > 0 ? -1 : 0;
  for (let n = 1; n <= flat.length; n++) {
    const [s, k, w] = flat[(((start + step * n) % flat.length) + flat.length) % flat.length];
    if (isLow(w)) return [s, k];
  }
  return null;
}

/** "01:02:03" or "02:03". */
export function clock(secs) {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}
