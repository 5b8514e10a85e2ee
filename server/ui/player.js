// The hearing's audio as one timeline: a hearing may have several recordings, whose transcripts
// the server appends one after another (each later one shifted by the durations before it). One
// <audio> element plays the recording that holds the current moment, fetched with byte ranges so
// seeking in a long recording does not download it first.

import { withToken } from './api.js';

export class Player extends EventTarget {
  constructor(audio, recordings) {
    super();
    this.audio = audio;
    this.parts = [];
    let offset = 0;
    for (const r of recordings) {
      this.parts.push({ id: r.id, offset, duration: r.duration });
      offset += r.duration;
    }
    this.duration = offset;
    this.current = -1;
    this.pendingSeek = null;
    audio.addEventListener('loadedmetadata', () => {
      if (this.pendingSeek !== null) {
        audio.currentTime = this.pendingSeek;
        this.pendingSeek = null;
      }
    });
    audio.addEventListener('ended', () => {
      if (this.current + 1 < this.parts.length) {
        this.load(this.current + 1, 0);
        audio.play().catch(() => {});
      }
    });
    for (const e of ['play', 'pause', 'ratechange', 'seeked', 'timeupdate']) {
      audio.addEventListener(e, () => this.dispatchEvent(new Event(e === 'timeupdate' ? 'time' : 'state')));
    }
    if (this.parts.length) this.load(0, 0);
  }

  load(k, at) {
    const part = this.parts[k];
    if (this.current !== k) {
      const rate = this.audio.playbackRate;
      this.current = k;
      this.pendingSeek = at;
      this.audio.src = withToken(`/api/recordings/${part.id}/audio`);
      this.audio.playbackRate = rate;
      this.audio.defaultPlaybackRate = rate;
    } else {
      this.audio.currentTime = at;
    }
  }

  /** Seconds from the start of the hearing. */
  get time() {
    if (this.current < 0) return 0;
    if (this.pendingSeek !== null) return this.parts[this.current].offset + this.pendingSeek;
    return this.parts[this.current].offset + this.audio.currentTime;
  }

  seek(t) {
    if (!this.parts.length) return;
    t = Math.max(0, Math.min(t, this.duration));
    let k = this.parts.findIndex((p) => t < p.offset + p.duration);
    if (k < 0) k = this.parts.length - 1;
    this.load(k, t - this.parts[k].offset);
    this.dispatchEvent(new Event('time'));
  }

  get playing() {
    return !this.audio.paused;
  }

  play() {
    return this.audio.play().catch(() => {});
  }

  pause() {
    this.audio.pause();
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  get rate() {
    return this.audio.playbackRate;
  }

  set rate(r) {
    const v = Math.round(Math.max(0.5, Math.min(2.5, r)) * 100) / 100;
    this.audio.playbackRate = v;
    this.audio.defaultPlaybackRate = v;
  }
}
