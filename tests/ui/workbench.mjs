// Drives the workbench in headless Chromium as a clerk, a presiding judge and an appeal judge
// would, against a real server that tests/workbench.rs started and filled. Every step checks
// what the person would see (and, where it matters, what the server stored). Screenshots of each
// screen go to $OUT. Exits non-zero at the first failed check; prints "ok - ..." per check.
//
// Env: BASE (server URL), HEARING (id), CASE_NUMBER, PASSWORD (of thuky, chutoa, phuctham),
// CHROMIUM (executable), PLAYWRIGHT_DIR (folder whose node_modules holds playwright-core), OUT;
// MODE=bench and RUNS for the render benchmark (benches/workbench_render.rs).

import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env('BASE');
const HEARING = Number(env('HEARING'));
const CASE_NUMBER = env('CASE_NUMBER');
const PASSWORD = env('PASSWORD');
const OUT = env('OUT');
const require = createRequire(path.join(env('PLAYWRIGHT_DIR'), 'noop.js'));
const { chromium } = require('playwright-core');

let checks = 0;
function ok(cond, what, detail = '') {
  if (!cond) {
    console.log(`not ok - ${what}${detail ? `: ${detail}` : ''}`);
    throw new Error(`check failed: ${what} ${detail}`);
  }
  checks++;
  console.log(`ok - ${what}`);
}
const close = (a, b, eps) => Math.abs(a - b) <= eps;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function apiAs(user, p, init = {}) {
  const login = await fetch(`${BASE}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: user, password: PASSWORD }),
  }).then((r) => r.json());
  const r = await fetch(`${BASE}${p}`, {
    ...init,
    headers: { Authorization: `Bearer ${login.token}`, 'Content-Type': 'application/json' },
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-dev-shm-usage'],
});
const problems = [];
let shot = 0;

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'vi-VN', acceptDownloads: true });
  const page = await context.newPage();
  page.on('pageerror', (e) => {
    problems.push(`page error: ${e.message}`);
    console.log(`page error: ${e.message}\n${e.stack}`);
  });
  page.on('console', (m) => {
    // 401 (the wrong password) and 409 (the stale save) are answers the test provokes.
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|409)/.test(m.text())) {
      problems.push(`console error: ${m.text()}`);
    }
  });
  return page;
}

async function screenshot(page, name) {
  shot++;
  const file = path.join(OUT, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file });
  console.log(`screenshot ${file}`);
}

/** Logs in with the keyboard only: type the name, Tab, the password, Enter. */
async function login(page, user) {
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#username');
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#cases table, #cases p.muted');
}

async function logout(page) {
  await page.getByRole('button', { name: 'Đăng xuất' }).click();
  await page.waitForSelector('#username');
}

async function openHearing(page) {
  const link = page.locator(`a.hearing-link[href="#/hearing/${HEARING}"]`);
  await link.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('.seg .w');
}

const state = (page) =>
  page.evaluate(() => {
    const a = document.querySelector('audio');
    return { time: a.currentTime, paused: a.paused, rate: a.playbackRate, ended: a.ended };
  });

const REVISION = new RegExp(`/api/hearings/${HEARING}/revisions/\\d+$`);

/** Opens the hearing as if its transcript were three hours long (3,600 segments, 36,000 words,
 *  served in place of the real revision); returns how long the editor took to show it once the
 *  transcript had arrived (`ms`), and from reloading the page to the first rows on screen (`open`,
 *  which adds loading the page, the API calls and parsing 36,000 words of JSON). */
async function openThreeHours(page, like) {
  const big = structuredClone(like);
  big.segments = [];
  for (let i = 0; i < 3600; i++) {
    const ws = [];
    for (let k = 0; k < 10; k++) ws.push({ start: i * 3 + k * 0.25, end: i * 3 + k * 0.25 + 0.2, text: ` từ${k}`, probability: k === 3 ? 0.4 : 0.9, speaker: 'SPEAKER_1' });
    big.segments.push({ id: i, start: i * 3, end: i * 3 + 2.7, text: ws.map((w) => w.text).join('').trim(), speaker: 'SPEAKER_1', avg_logprob: -0.2, no_speech_prob: 0, words: ws });
  }
  const body = JSON.stringify(big);
  await page.unroute(REVISION);
  await page.route(REVISION, (route) => route.fulfill({ status: 200, contentType: 'application/json', body }));
  await page.goto(`${BASE}/#/hearing/${HEARING}`);
  const t0 = performance.now();
  await page.reload();
  await page.waitForSelector('.seg .w');
  const openMs = Math.round(performance.now() - t0);
  return page.evaluate((open) => ({ ms: Number(document.body.dataset.renderMs), open, rows: document.querySelectorAll('.seg').length }), openMs);
}

const original = (await apiAs('thuky', `/api/hearings/${HEARING}/transcript`)).body;

// MODE=bench (benches/workbench_render.rs): only open the three-hour transcript RUNS times and
// print the render times as one JSON line.
if (process.env.MODE === 'bench') {
  try {
    const page = await newPage();
    await login(page, 'thuky');
    const runs = [];
    for (let n = 0; n < Number(process.env.RUNS || 10); n++) runs.push(await openThreeHours(page, original));
    console.log(`BENCH ${JSON.stringify({ ms: runs.map((r) => r.ms), open: runs.map((r) => r.open), rows: runs.map((r) => r.rows) })}`);
  } finally {
    await browser.close();
  }
  process.exit(problems.length ? 1 : 0);
}

const marker = await apiAs('thuky', `/api/hearings/${HEARING}/markers`, {
  method: 'POST',
  body: JSON.stringify({ offset: original.segments[original.segments.length - 1].start + 0.1, text: 'Kiểm sát viên phát biểu' }),
});
ok(marker.status === 201, 'a clerk marker is added to the hearing');
const words = original.segments.flatMap((s, si) => s.words.map((w, wi) => ({ ...w, si, wi })));
const low = words.filter((w) => w.probability < 0.6);
ok(words.length >= 4, 'the draft has words to correct', `${words.length}`);

try {
  // ---------------------------------------------------------------- clerk
  const page = await newPage();
  await page.goto(`${BASE}/`);
  await page.waitForSelector('#username');
  ok((await page.title()).includes('Đăng nhập'), 'the login screen is in Vietnamese');
  await screenshot(page, 'login');
  await page.keyboard.type('thuky');
  await page.keyboard.press('Tab');
  await page.keyboard.type('sai-mat-khau');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.login .error:not(:empty)');
  ok((await page.textContent('.login .error')).includes('Sai tên đăng nhập hoặc mật khẩu'), 'a wrong password is refused in Vietnamese');
  await login(page, 'thuky');
  ok((await page.textContent('#cases')).includes(CASE_NUMBER), 'the case list shows the case');
  await screenshot(page, 'cases');
  await openHearing(page);
  await screenshot(page, 'editor');

  const rendered = await page.evaluate(() => ({
    words: document.querySelectorAll('.seg .w').length,
    low: [...document.querySelectorAll('.seg .w.low')].map((e) => `${e.dataset.si}:${e.dataset.wi}`),
    focused: document.activeElement.classList.contains('scroller'),
    shortcuts: document.querySelector('table.shortcuts').textContent,
  }));
  ok(rendered.words === words.length, 'every word of the draft is shown', `${rendered.words} of ${words.length}`);
  ok(
    JSON.stringify(rendered.low) === JSON.stringify(low.map((w) => `${w.si}:${w.wi}`)),
    'exactly the words with probability < 0.6 are highlighted',
    `${rendered.low} vs ${low.map((w) => `${w.si}:${w.wi}`)}`,
  );
  ok(rendered.focused, 'the transcript has the keyboard focus on opening');
  ok(rendered.shortcuts.includes('Ctrl+Space') && rendered.shortcuts.includes('Alt+N'), 'the shortcuts are documented on screen');
  const markerChip = await page.textContent(`#seg${original.segments.length - 1} .marker`);
  ok(markerChip.includes('Kiểm sát viên phát biểu'), 'the clerk marker shows at its moment in the minutes', markerChip);

  // Play, with the current word highlighted.
  await page.keyboard.press('Control+Space');
  await page.waitForFunction(() => document.querySelector('audio').currentTime > 1.2, null, { timeout: 15000 });
  const playing = await page.evaluate(() => {
    const a = document.querySelector('audio');
    const w = document.querySelector('.w.play');
    return { time: a.currentTime, si: w && Number(w.dataset.si), wi: w && Number(w.dataset.wi), button: document.querySelector('.player .play').textContent };
  });
  ok(!(await state(page)).paused, 'Ctrl+Space plays the recording');
  ok(playing.button.includes('Dừng'), 'the play button turns into a pause button');
  // The highlight follows the audio frame by frame, so it may trail the time read here by the
  // frames a loaded machine skips, never run ahead of it: the word playing now or one that played
  // within the last half second.
  const playingAt = (t) => words.filter((w) => w.start <= t).length - 1;
  const highlighted = words.findIndex((w) => w.si === playing.si && w.wi === playing.wi);
  ok(
    playing.si !== null && highlighted >= playingAt(playing.time - 0.5) && highlighted <= playingAt(playing.time + 0.05),
    'the highlighted word is the one being played',
    JSON.stringify({ playing, highlighted, allowed: [playingAt(playing.time - 0.5), playingAt(playing.time + 0.05)] }),
  );
  await page.keyboard.press('Control+Space');
  await sleep(200);
  const paused = await state(page);
  ok(paused.paused, 'Ctrl+Space pauses');
  await page.keyboard.press('Alt+ArrowLeft');
  await sleep(300);
  const back = await state(page);
  ok(close(back.time, Math.max(0, paused.time - 3), 0.35), 'Alt+← goes back 3 s', `${paused.time} → ${back.time}`);
  await page.keyboard.press('Alt+ArrowUp');
  ok(close((await state(page)).rate, 1.1, 0.001), 'Alt+↑ speeds up');
  await page.keyboard.press('Alt+ArrowDown');
  ok(close((await state(page)).rate, 1.0, 0.001), 'Alt+↓ slows down');

  // Correct ten words with the keyboard only (issue 6's target: "a clerk can correct 10 words in a
  // 2-minute hearing without touching the mouse"): Tab to the next low-confidence word, arrows to
  // any other, Enter to open it, type, then Enter — or Tab, which saves and goes on to the next
  // word to check.
  const fixes = ['Nguyễn', 'Văn', 'Ân', 'thẩm', 'phán', 'hội', 'đồng', 'xét', 'xử', 'tuyên'];
  ok(original.segments[original.segments.length - 1].end >= 100, 'the hearing runs about two minutes', `${original.segments[original.segments.length - 1].end} s`);
  ok(words.length >= 3 * fixes.length, 'the draft has words enough to correct ten', `${words.length}`);
  const flat = ([si, wi]) => words.findIndex((w) => w.si === si && w.wi === wi);
  // The first low-confidence words (reached with Tab), then words spread over the whole hearing
  // (reached with the arrows).
  const chosen = new Set(low.map((w) => words.indexOf(w)).slice(0, fixes.length / 2));
  const step = Math.floor(words.length / (fixes.length - chosen.size + 1));
  for (let j = 1; chosen.size < fixes.length; j++) chosen.add((j * step) % words.length);
  const targets = [...chosen].sort((a, b) => a - b);
  const lowLeft = new Set(low.map((w) => words.indexOf(w)));
  const nextLowAfter = (i) => {
    const left = [...lowLeft].sort((a, b) => a - b);
    return left.find((j) => j > i) ?? left[0];
  };
  const selected = async () => flat(await page.evaluate(() => {
    const w = document.querySelector('.w.sel');
    return w ? [Number(w.dataset.si), Number(w.dataset.wi)] : [-1, -1];
  }));
  const keys = { Tab: 0, Arrow: 0, Enter: 0, typed: 0 };
  const press = async (key) => {
    keys[key === 'Tab' || key === 'Enter' ? key : 'Arrow']++;
    await page.keyboard.press(key);
  };
  await page.keyboard.press('Control+Space'); // playing while correcting: typing must pause it
  await sleep(300);
  let tabbed = false; // the word editor's Tab already saved the last word and moved on
  for (let k = 0; k < targets.length; k++) {
    const target = targets[k];
    if (!tabbed) {
      const at = await selected();
      if (lowLeft.has(target) && nextLowAfter(at) === target) {
        await press('Tab');
      } else {
        const goal = words[target];
        let cur = words[at] || words[0];
        while (cur.si !== goal.si) {
          await press(cur.si < goal.si ? 'ArrowDown' : 'ArrowUp');
          cur = words[await selected()];
        }
        if (cur.wi > goal.wi) await press('Home');
        for (let n = await selected(); n < target; n++) await press('ArrowRight');
      }
    }
    const on = await selected();
    ok(on === target, `the keyboard reaches word ${k + 1} to correct (${words[target].text.trim()})`, `${on} vs ${target}`);
    await press('Enter');
    await page.waitForSelector('.word-edit');
    ok((await page.inputValue('.word-edit')) === words[target].text.trim(), `Enter opens word ${k + 1} for editing`);
    await page.keyboard.type(fixes[k]);
    keys.typed += fixes[k].length;
    if (k === 0) ok((await state(page)).paused, 'typing pauses the audio');
    lowLeft.delete(target);
    const next = targets[k + 1];
    tabbed = next !== undefined && lowLeft.has(next) && nextLowAfter(target) === next;
    if (tabbed) {
      await press('Tab'); // saves this word and goes to the next one to check
    } else {
      await press('Enter');
      ok((await page.locator('.word-edit').count()) === 0, `Enter saves word ${k + 1} and closes the editor`);
    }
  }
  console.log(`ten corrections: ${keys.Tab} Tab, ${keys.Arrow} arrow/Home, ${keys.Enter} Enter, ${keys.typed} letters typed, no mouse`);
  await page.keyboard.press('Control+Space');
  await page.evaluate(() => document.querySelector('audio').pause());
  for (const [k, i] of targets.entries()) {
    const shown = await page.textContent(`#w${words[i].si}_${words[i].wi}`);
    ok(shown === fixes[k], `corrected word ${k + 1} is shown`, shown);
  }
  const first = words[targets[0]];
  const last = words[targets[targets.length - 1]];

  // Rename the speaker of the selected segment (the last corrected word's) everywhere.
  await page.keyboard.press('Alt+R');
  await page.waitForSelector('dialog[open] #spk-name');
  await page.keyboard.press('Control+a');
  await page.keyboard.type('Trần Thị Bình');
  await page.keyboard.press('Enter');
  await page.waitForSelector('dialog', { state: 'detached' });
  const speakers = await page.$$eval('.seg .spk', (els) => els.map((e) => e.textContent));
  const sameSpeaker = original.segments.filter((s) => s.speaker === original.segments[last.si].speaker).length;
  ok(speakers.filter((s) => s === 'Trần Thị Bình').length === sameSpeaker, 'the speaker is renamed in every segment', JSON.stringify(speakers));

  // Split a segment and merge it back (keyboard).
  const segCount = await page.locator('.seg').count();
  if (original.segments[last.si].words.length > 1) {
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Alt+S');
    await page.waitForFunction((n) => document.querySelectorAll('.seg').length === n + 1, segCount);
    ok(true, 'Alt+S splits a segment');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Alt+M');
    await page.waitForFunction((n) => document.querySelectorAll('.seg').length === n, segCount);
    ok(true, 'Alt+M merges it back');
  }

  // Save (Ctrl+S; autosave would do it too) and see it after a reload.
  await page.keyboard.press('Control+s');
  await page.waitForFunction(() => /Đã lưu bản số \d+/.test(document.querySelector('#save-status').textContent), null, { timeout: 10000 });
  await screenshot(page, 'editor-corrected');
  await page.reload();
  await page.waitForSelector('.seg .w');
  ok((await page.textContent(`#w${first.si}_${first.wi}`)) === 'Nguyễn', 'the correction is there after a reload');
  ok((await page.textContent(`#seg${last.si} .spk`)) === 'Trần Thị Bình', 'the new speaker name is there after a reload');
  const saved = (await apiAs('thuky', `/api/hearings/${HEARING}/transcript`)).body;
  const savedWords = saved.segments.flatMap((s) => s.words);
  ok(savedWords.length === words.length, 'no word was lost or added', `${savedWords.length}`);
  const moved = savedWords.findIndex((w, k) => w.start !== words[k].start || w.end !== words[k].end);
  ok(
    moved < 0,
    'every word kept its timestamps',
    moved < 0 ? '' : JSON.stringify({ before: words[moved], after: savedWords[moved] }),
  );
  ok(
    targets.every((i, k) => savedWords[i].text.trim() === fixes[k]),
    'the server has all ten corrections',
    JSON.stringify(targets.map((i) => savedWords[i].text)),
  );
  ok(
    savedWords.every((w, i) => targets.includes(i) || w.text === words[i].text),
    'every other word is as it was',
  );
  const label = saved.speakers.find((s) => s.id === saved.segments[last.si].speaker);
  ok(label && label.label === 'Trần Thị Bình' && label.role === 'CHU_TOA', 'the speaker is assigned to the participant and role', JSON.stringify(saved.speakers));

  // History: the ASR draft against the corrected minutes.
  await page.getByRole('tab', { name: 'Lịch sử sửa đổi' }).click();
  await page.waitForSelector('#diff ins');
  ok((await page.textContent('#diff')).includes('Nguyễn'), 'the diff shows the correction');
  ok((await page.locator('table.revisions tbody tr').count()) >= 2, 'the revisions are listed');
  await screenshot(page, 'history');
  await page.getByRole('tab', { name: 'Biên bản' }).click();

  // A stale save is refused and the clerk is told.
  const rev = (await apiAs('thuky', `/api/hearings/${HEARING}/revisions`)).body.length;
  const other = structuredClone(saved);
  other.segments[0].text = `${other.segments[0].text}`;
  ok((await apiAs('chutoa', `/api/hearings/${HEARING}/transcript?base_revision=${rev}`, { method: 'PUT', body: JSON.stringify(other) })).status === 201, 'someone else saves meanwhile');
  await page.keyboard.press('End');
  await page.keyboard.press('Enter');
  await page.keyboard.type('x');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.banner:not([hidden])', { timeout: 10000 });
  ok((await page.textContent('.banner')).includes('đã có người lưu bản mới hơn'), 'a 409 on save is explained to the clerk');
  await screenshot(page, 'conflict');
  await page.getByRole('button', { name: 'Tải lại bản mới nhất' }).click();
  await page.waitForSelector('.banner', { state: 'hidden' });
  await page.waitForFunction(() => document.querySelector('#save-status').textContent.startsWith('Đã tải lại bản số'));
  ok(await page.isVisible('.mode:not(.ro)'), 'after reloading the latest revision the clerk can edit again');
  await logout(page);

  // ---------------------------------------------------------------- judge
  await login(page, 'chutoa');
  await openHearing(page);
  await page.click('#approve');
  await page.click('#approve-confirm');
  await page.waitForSelector('#approved-badge');
  ok((await page.textContent('#approved-badge')) === 'Đã phê duyệt', 'after approval the minutes show "Đã phê duyệt"');
  ok(await page.isVisible('#readonly'), 'the editor is read-only after approval');
  await page.focus('.scroller');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await sleep(200);
  ok((await page.locator('.word-edit').count()) === 0, 'editing approved minutes is refused');
  ok((await page.textContent('#toast')).includes('đã được phê duyệt'), 'the refusal says why');
  const put = await page.evaluate(async ([h, t]) => {
    const s = JSON.parse(sessionStorage.getItem('courtscribe.session'));
    const r = await fetch(`/api/hearings/${h}/transcript`, { method: 'PUT', headers: { Authorization: `Bearer ${s.token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(t) });
    return r.status;
  }, [HEARING, saved]);
  ok(put === 409, 'the server refuses a save after approval', `${put}`);
  await screenshot(page, 'approved');
  await page.fill('#amendment-text', 'Bổ sung: bị cáo xin vắng mặt buổi chiều');
  await page.click('#add-amendment');
  await page.waitForSelector('.amendment');
  const amendment = await page.textContent('.amendment');
  ok(amendment.includes('Bổ sung: bị cáo xin vắng mặt buổi chiều') && amendment.includes('chutoa'), 'the amendment is shown after the minutes with its author', amendment);
  ok(amendment.includes('Chưa ký xác nhận') && (await page.locator('.amendment button').count()) === 0, 'the judge\'s amendment awaits the clerk\'s signature, not the judge\'s', amendment);
  await screenshot(page, 'amendment');
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-docx')]);
  await download.saveAs(path.join(OUT, 'minutes.docx'));
  ok(download.suggestedFilename().endsWith('.docx'), 'the DOCX downloads', download.suggestedFilename());
  ok((await page.textContent('#export-pdf')).includes('PDF'), 'the minutes are offered as PDF too');
  for (const f of ['pdf', 'srt', 'vtt', 'json']) {
    const href = await page.getAttribute(`#export-${f}`, 'href');
    const r = await page.evaluate(async (u) => (await fetch(u)).status, href);
    ok(r === 200, `the ${f.toUpperCase()} export link works`);
  }
  await logout(page);

  // The clerk co-signs after the presiding judge.
  await login(page, 'thuky');
  await openHearing(page);
  ok(await page.isVisible('#readonly'), 'the minutes are read-only for the clerk too once approved');
  await page.click('#cosign');
  await page.waitForFunction(() => document.querySelector('#approval').textContent.includes('ký xác nhận'));
  ok((await page.textContent('#approval')).includes('Thư ký thuky ký xác nhận'), 'the clerk co-signs');
  // …and co-signs the judge's amendment (keyboard: focus the button, Enter).
  const signButton = page.locator('.amendment button[id^="sign-amendment-"]');
  ok((await signButton.count()) === 1, 'the clerk is offered to co-sign the judge\'s amendment');
  await signButton.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('.amendment .cosign.signed');
  const cosigned = await page.textContent('.amendment .cosign');
  ok(cosigned.includes('Đã ký xác nhận bởi Thư ký thuky'), 'the amendment shows who co-signed it', cosigned);
  await screenshot(page, 'amendment-cosigned');
  const [pdf] = await Promise.all([page.waitForEvent('download'), page.click('#export-pdf')]);
  await pdf.saveAs(path.join(OUT, 'minutes.pdf'));
  ok(pdf.suggestedFilename().endsWith('.pdf'), 'the PDF downloads', pdf.suggestedFilename());
  await logout(page);

  // ---------------------------------------------------------------- reviewer
  await login(page, 'phuctham');
  await page.focus('#search');
  await page.keyboard.type('nguyen');
  await page.keyboard.press('Enter');
  await page.waitForSelector('a.hit');
  const hit = page.locator(`a.hit[href^="#/hearing/${HEARING}?t="]`).first();
  ok((await hit.count()) === 1, 'search without diacritics finds the hearing');
  ok((await hit.textContent()).includes('Nguyễn'), 'the result shows the words with their diacritics');
  await screenshot(page, 'search');
  const at = Number((await hit.getAttribute('href')).split('t=')[1]);
  await hit.focus();
  await page.keyboard.press('Enter');
  await page.waitForSelector('.seg .w.sel');
  // The seek lands once the audio's metadata has loaded, which takes longer on a busy machine.
  await page
    .waitForFunction((t) => Math.abs(document.querySelector('audio').currentTime - t) <= 0.3, at, { timeout: 5000 })
    .catch(() => {});
  const opened = (await state(page)).time;
  ok(close(opened, at, 0.3), 'the result opens the audio at that moment', `${opened} for ${at}`);
  ok(await page.isVisible('#readonly'), 'the reviewer reads only');
  const lastSeg = original.segments.length - 1;
  const clicked = original.segments[lastSeg].words[0].start;
  await page.click(`#w${lastSeg}_0`);
  // Like the search hit's, the seek lands when the browser has the audio there (later when busy).
  await page
    .waitForFunction((t) => Math.abs(document.querySelector('audio').currentTime - t) <= 0.3, clicked, { timeout: 5000 })
    .catch(() => {});
  const played = (await state(page)).time;
  ok(close(played, clicked, 0.3), 'clicking a word plays from there', `${played} for ${clicked}`);
  await page.focus('.scroller');
  await page.keyboard.press('Enter');
  ok((await page.locator('.word-edit').count()) === 0, 'the reviewer cannot edit');
  await page.keyboard.press('Alt+B');
  await page.keyboard.press('Alt+C');
  await page.keyboard.type('Cần nghe lại đoạn này');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.seg .note');
  ok((await page.textContent('.privacy')).includes('localStorage'), 'the notes say they stay in this browser');
  await page.reload();
  await page.waitForSelector('.seg .note');
  ok((await page.locator('.seg.bookmarked').count()) === 1, 'bookmarks and notes survive a reload');
  await screenshot(page, 'reviewer');
  await page.getByRole('tab', { name: 'Lịch sử sửa đổi' }).click();
  await page.waitForSelector('#diff ins');
  ok((await page.inputValue('#diff-to')) !== '1', 'the reviewer compares the ASR draft with the approved minutes');
  await page.getByRole('tab', { name: 'Phụ đề trực tiếp' }).click();
  await page.waitForFunction(() => /Đã kết nối|Đang nhận/.test(document.querySelector('#live-state').textContent), null, { timeout: 10000 });
  ok(true, 'the live view connects to the caption stream');
  // What a running hearing sends (the server's stream, replayed): finals append, a partial shows
  // until replaced, a clerk's marker stands out.
  const events = [
    { session: 's1', kind: 'final', start: 1, end: 2.5, text: 'Phiên tòa bắt đầu.' },
    { session: 's1', kind: 'marker', start: 3, end: 3, text: 'Bị cáo vào phòng xử án' },
    { session: 's1', kind: 'final', start: 4, end: 6, text: 'Kiểm sát viên đọc bản cáo trạng.' },
    { session: 's1', kind: 'partial', start: 7, end: 8, text: 'Bị cáo có ý kiến' },
  ];
  await page.route(new RegExp(`/api/hearings/${HEARING}/captions`), (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/event-stream',
      body: `retry: 600000\n\n${events.map((e) => `event: caption\ndata: ${JSON.stringify(e)}\n\n`).join('')}`,
    }));
  await page.getByRole('tab', { name: 'Biên bản' }).click();
  await page.getByRole('tab', { name: 'Phụ đề trực tiếp' }).click();
  await page.waitForFunction(() => document.querySelectorAll('#captions li').length === 3);
  const live = await page.evaluate(() => ({
    items: [...document.querySelectorAll('#captions li')].map((li) => li.textContent),
    partial: document.querySelector('#partial').textContent,
  }));
  ok(live.items[0].includes('Phiên tòa bắt đầu.') && live.items[2].includes('Kiểm sát viên đọc bản cáo trạng.'), 'captions appear in order', JSON.stringify(live));
  ok(live.items[1].includes('⚑ Bị cáo vào phòng xử án'), 'a clerk marker shows among the captions');
  ok(live.partial.includes('Bị cáo có ý kiến'), 'the words still being spoken show as a partial caption');
  await screenshot(page, 'live');
  await page.unroute(new RegExp(`/api/hearings/${HEARING}/captions`));

  // A three-hour hearing opens as a virtual list: few rows in the page, the last one reachable.
  // (How fast it renders is measured by `cargo bench --bench workbench_render`, not here.)
  const perf = await openThreeHours(page, saved);
  ok(perf.rows < 120, 'only the rows in view are in the page', `${perf.rows} rows`);
  await page.evaluate(() => {
    const s = document.querySelector('.scroller');
    s.scrollTop = s.scrollHeight;
  });
  await page.waitForSelector('#seg3599');
  ok(true, 'scrolling to the end shows the last segment');
  console.log(`render ${perf.ms} ms (open ${perf.open} ms), ${perf.rows} rows in the DOM`);
  await page.unroute(REVISION);

  ok(problems.length === 0, 'no script errors or refused resources in the pages', problems.join('\n'));
  writeFileSync(path.join(OUT, 'result.json'), JSON.stringify({ checks }));
  console.log(`workbench: all ${checks} checks passed`);
} finally {
  await browser.close();
}
