// Live events over the API WebSocket: subscribe to topics, reconnect with back-off, and on every reconnect
// resume from the last sequence number seen (the server replays what was missed, exactly once).
import { base, getToken } from "./api.js";

export class Live {
  constructor({ topics, onEvent, onState = () => {}, onSubscribed = () => {} }) {
    this.topics = topics;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onSubscribed = onSubscribed;
    this.lastSeq = null;
    this.delay = 500;
    this.closed = false;
    this.ws = null;
    this.state = "connecting";
  }

  url() {
    const u = new URL("api/ws", base);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("access_token", getToken());
    return u.toString();
  }

  start() { this.closed = false; this.connect(); return this; }

  stop() { this.closed = true; if (this.ws) this.ws.close(); }

  setState(state) { this.state = state; this.onState(state); }

  connect() {
    this.setState("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      const frame = { op: "subscribe", topics: this.topics };
      if (this.lastSeq !== null) frame.last_seq = this.lastSeq;
      ws.send(JSON.stringify(frame));
    };
    ws.onmessage = (msg) => {
      let frame;
      try { frame = JSON.parse(msg.data); } catch { return; }
      if (frame.op === "subscribed") {
        this.delay = 500;
        if (this.lastSeq === null) this.lastSeq = frame.last_seq ?? 0;
        this.setState("live");
        this.onSubscribed(frame);
      } else if (frame.op === "event" && frame.event) {
        const ev = frame.event;
        if (typeof ev.seq === "number") {
          if (this.lastSeq !== null && ev.seq <= this.lastSeq) return;  // never twice
          this.lastSeq = ev.seq;
        }
        try { this.onEvent(ev); } catch (err) { console.error("event handler", err); }
      } else if (frame.op === "error") {
        console.warn("ws error", frame);
        // the cursor is gone (purged by the retention, or too far behind): start afresh, the page reloads its
        // state when subscribed (onSubscribed)
        if (["unknown_cursor", "cursor_expired", "too_far_behind"].includes(frame.code)) { this.lastSeq = null; ws.close(); }
      }
    };
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.setState("offline");
      if (this.closed) return;
      const wait = this.delay;
      this.delay = Math.min(this.delay * 2, 10000);
      setTimeout(() => { if (!this.closed) this.connect(); }, wait);
    };
    ws.onerror = () => { /* onclose follows */ };
  }
}
