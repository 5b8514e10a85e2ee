// The workbench's transcript operations (server/ui/model.js) under Node's test runner: every edit
// keeps the times of the words it does not touch, and the text stays the words joined.
// Run by tests/workbench.rs (`node --test tests/ui/model.test.mjs`).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

// server/ui has no package.json saying "module"; loading the source as a data: URL works on every
// Node version without flags (model.js imports nothing).
const src = readFileSync(new URL('../../server/ui/model.js', import.meta.url), 'utf8');
const M = await import(`data:text/javascript;charset=utf-8,${encodeURIComponent(src)}`);

function transcript() {
  const seg = (id, start, words, speaker) => ({
    id, start, end: words[words.length - 1][1], speaker, avg_logprob: -0.3, no_speech_prob: 0,
    text: words.map((w) => ` ${w[2]}`).join('').trim(),
    words: words.map(([s, e, text, p = 0.9]) => ({ start: s, end: e, text: ` ${text}`, probability: p, speaker })),
  });
  return {
    language: 'vi',
    segments: [
      seg(0, 0.5, [[0.5, 0.8, 'Bị'], [0.8, 1.1, 'cáo'], [1.1, 1.5, 'Nguyễn', 0.3], [1.5, 1.8, 'Văn'], [1.8, 2.2, 'Ân', 0.4]], 'SPEAKER_1'),
      seg(1, 3.0, [[3.0, 3.4, 'Kiểm'], [3.4, 3.7, 'sát'], [3.7, 4.1, 'viên']], 'SPEAKER_2'),
      seg(2, 5.0, [[5.0, 5.3, 'Xin'], [5.3, 5.6, 'mời', 0.5]], 'SPEAKER_1'),
    ],
    speakers: [{ id: 'SPEAKER_1' }, { id: 'SPEAKER_2' }],
  };
}

const times = (seg) => seg.words.map((w) => [w.start, w.end]);

test('replacing a word keeps the other words and their times', () => {
  const t = transcript();
  const before = times(t.segments[0]);
  M.replaceWord(t, 0, 4, 'An');
  assert.equal(t.segments[0].text, 'Bị cáo Nguyễn Văn An');
  assert.deepEqual(times(t.segments[0]), before);
  assert.equal(t.segments[0].words[4].probability, 1, 'a typed word is certain');
});

test('a word replaced by two shares its time between them', () => {
  const t = transcript();
  M.replaceWord(t, 1, 2, 'viên nhân');
  const s = t.segments[1];
  assert.equal(s.text, 'Kiểm sát viên nhân');
  assert.equal(s.words[2].start, 3.7);
  assert.equal(s.words[3].end, 4.1);
  assert.ok(s.words[2].end > 3.7 && s.words[2].end < 4.1);
  assert.equal(s.words[2].end, s.words[3].start);
});

test('an emptied word is deleted, an emptied segment too', () => {
  const t = transcript();
  M.replaceWord(t, 2, 1, '');
  assert.equal(t.segments[2].text, 'Xin');
  M.replaceWord(t, 2, 0, '  ');
  assert.equal(t.segments.length, 2);
});

test('editing a segment text aligns the new words to the old ones', () => {
  const t = transcript();
  const old = t.segments[0].words.map((w) => ({ ...w }));
  M.setSegmentText(t, 0, 'Bị cáo Nguyễn Văn An có mặt');
  const s = t.segments[0];
  assert.equal(s.text, 'Bị cáo Nguyễn Văn An có mặt');
  for (const k of [0, 1, 2, 3]) assert.deepEqual([s.words[k].start, s.words[k].end, s.words[k].probability], [old[k].start, old[k].end, old[k].probability]);
  assert.deepEqual([s.words[4].start, s.words[6].end], [1.8, 2.2], 'the replaced run shares the old word\'s time');
  M.setSegmentText(t, 1, 'Kiểm sát viên đọc');
  assert.deepEqual(times(t.segments[1]).slice(0, 3), [[3.0, 3.4], [3.4, 3.7], [3.7, 4.1]]);
  assert.deepEqual(times(t.segments[1])[3], [4.1, 4.1], 'an inserted word takes no time');
});

test('split and merge are inverse', () => {
  const t = transcript();
  const text = t.segments[0].text;
  assert.ok(M.splitSegment(t, 0, 2));
  assert.deepEqual(t.segments.map((s) => s.id), [0, 1, 2, 3]);
  assert.equal(t.segments[0].text, 'Bị cáo');
  assert.equal(t.segments[1].text, 'Nguyễn Văn Ân');
  assert.equal(t.segments[1].start, 1.1);
  assert.equal(t.segments[0].end, 1.1);
  assert.ok(!M.splitSegment(t, 0, 0), 'no empty segment');
  assert.ok(M.mergeWithNext(t, 0));
  assert.equal(t.segments[0].text, text);
  assert.equal(t.segments[0].end, 2.2);
  assert.equal(t.segments.length, 3);
});

test('a speaker is renamed everywhere, or one segment gets another speaker', () => {
  const t = transcript();
  M.renameSpeaker(t, 'SPEAKER_1', 'Trần Thị Bình', 'CHU_TOA');
  assert.equal(M.speakerName(t, t.segments[2].speaker), 'Trần Thị Bình');
  assert.equal(t.speakers.find((s) => s.id === 'SPEAKER_1').role, 'CHU_TOA');
  const id = M.setSegmentSpeaker(t, 2, 'Nguyễn Văn An', 'BI_CAO');
  assert.equal(id, 'BI_CAO');
  assert.equal(t.segments[2].speaker, 'BI_CAO');
  assert.ok(t.segments[2].words.every((w) => w.speaker === 'BI_CAO'));
  assert.equal(t.segments[0].speaker, 'SPEAKER_1', 'the other segments keep theirs');
  assert.equal(M.setSegmentSpeaker(t, 1, 'tran thi binh'), 'SPEAKER_1', 'an existing name is reused');
});

test('unassigned segments are one speaker to name', () => {
  const t = transcript();
  for (const s of t.segments) delete s.speaker;
  t.speakers = [];
  const id = M.renameSpeaker(t, undefined, 'Thư ký', 'THU_KY');
  assert.equal(id, 'THU_KY');
  assert.ok(t.segments.every((s) => s.speaker === 'THU_KY'));
});

test('folding drops diacritics and keeps positions', () => {
  assert.equal(M.fold('Bị cáo ĐỒNG Ý'), 'bi cao dong y');
  const s = 'Phiên tòa xét xử sơ thẩm';
  assert.equal(M.fold(s).length, s.length);
});

test('find ignores diacritics; replace keeps the times of untouched words', () => {
  const t = transcript();
  assert.deepEqual(M.find(t, 'nguyen van').map((h) => h.si), [0]);
  assert.equal(M.find(t, 'nguyen', false).length, 0);
  const before = times(t.segments[1]);
  assert.equal(M.replaceAll(t, 'sát', 'soát'), 1);
  assert.equal(t.segments[1].text, 'Kiểm soát viên');
  assert.deepEqual(times(t.segments[1]), before);
});

test('low-confidence words are visited in order and wrap around', () => {
  const t = transcript();
  assert.deepEqual(M.nextLow(t, 0, -1, 1), [0, 2]);
  assert.deepEqual(M.nextLow(t, 0, 2, 1), [0, 4]);
  assert.deepEqual(M.nextLow(t, 0, 4, 1), [2, 1]);
  assert.deepEqual(M.nextLow(t, 2, 1, 1), [0, 2]);
  assert.deepEqual(M.nextLow(t, 0, 2, -1), [2, 1]);
  M.replaceWord(t, 0, 2, 'Nguyễn');
  M.replaceWord(t, 0, 4, 'An');
  M.replaceWord(t, 2, 1, 'mời');
  assert.equal(M.nextLow(t, 0, 0, 1), null);
});

test('the word being played is found by time', () => {
  const t = transcript();
  const { starts, refs } = M.wordIndex(t);
  assert.deepEqual(refs[M.lastAtOrBefore(starts, 1.2)], [0, 2]);
  assert.deepEqual(refs[M.lastAtOrBefore(starts, 3.0)], [1, 0]);
  assert.equal(M.lastAtOrBefore(starts, 0.1), -1);
  assert.equal(M.clock(3725), '1:02:05');
  assert.equal(M.clock(65), '01:05');
});
