// Video through the Vitrine media relay: publish a camera, or view a room.
//
//   import { publish, view, takeSnapshot } from "/static/js/media.js";
//   const viewer = view(videoEl, () => fetchGrant("view"));
//   const both = view(hostEl, getGrant, { cohostVideo: cohostEl }); // a show's two cameras
//   viewer.addEventListener("statechange", (e) => badge(e.detail));
//   const sender = await publish(stream, () => fetchGrant("publish"));
//
// A grant ({relay_url, grant, room, ice_servers, ice_transport_policy}) is good for one
// connection and a minute (its TURN credentials, when the server has TURN_SECRET, longer),
// so both take a function that fetches a fresh one for every (re)connect.
// Signalling is non-trickle: the offer is posted once ICE gathering is complete.
// The answer carries a peer token: the proof the relay wants to hang that peer up
// (DELETE /signal/<peer>) and to tell its room's status while the grant is long gone.
//
// When the room's relay dies, the web app moves the room to another and pushes
// "relay_moved" ({relay_url}) to the room: call moved(relay_url) on each viewer and
// publisher of it, and they take a new grant (which names the new relay) at once
// rather than waiting for their connection to time out.
//
// Viewer states: "connecting", "waiting" (nobody publishing yet), "playing",
// "host-reconnecting" (the publisher dropped; the relay keeps the room),
// "reconnecting" (our own connection dropped), "hls" (the room is full: HLS instead),
// "offline" (the relay cannot be reached), "closed".
// Publisher states: "connecting", "live", "reconnecting", "failed", "closed".
import { t } from "./ui.js";

const STATUS_POLL_MS = 3000;
const GATHER_TIMEOUT_MS = 5000;
const MAX_BACKOFF_MS = 8000;
const NO_PICTURE_MS = 8000;

const asSource = (grant) => (typeof grant === "function" ? grant : async () => grant);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sameRelay = (a, b) => String(a || "").replace(/\/+$/, "") === String(b || "").replace(/\/+$/, "");

// The grant's ICE servers (TURN credentials minted for this grant) and policy ("relay":
// TURN only, the browser's own addresses never leave it).
const rtcConfiguration = (info, extra = {}) => ({
  iceServers: info.ice_servers || [],
  iceTransportPolicy: info.ice_transport_policy === "relay" ? "relay" : "all",
  ...extra,
});

function waitForIce(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    pc.addEventListener("icegatheringstatechange", done);
    // Host candidates arrive at once; don't hang on an unreachable STUN server.
    setTimeout(resolve, GATHER_TIMEOUT_MS);
  });
}

export class RelayError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function signal(pc, info) {
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await waitForIce(pc);
  const response = await fetch(`${info.relay_url}/signal`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ grant: info.grant, sdp: pc.localDescription.sdp, type: "offer" }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new RelayError(response.status, body.error || "relay_error", body.message || t("The video server refused."));
  }
  await pc.setRemoteDescription({ type: body.type, sdp: body.sdp });
  return { peerId: body.peer_id, peerToken: body.peer_token };
}

function hangUp(relayUrl, peerId, peerToken) {
  if (!peerId) return;
  fetch(`${relayUrl}/signal/${encodeURIComponent(peerId)}`, {
    method: "DELETE",
    headers: { Authorization: `Bearer ${peerToken}` },
    keepalive: true,
  }).catch(() => {});
}

class MediaLink extends EventTarget {
  constructor() {
    super();
    this.state = "connecting";
    this.closed = false;
  }

  _set(state, detail = {}) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("statechange", { detail: state }));
    if (Object.keys(detail).length) this.dispatchEvent(new CustomEvent("info", { detail }));
  }
}

// --- viewing ------------------------------------------------------------------

class Viewer extends MediaLink {
  constructor(video, getGrant, { cohostVideo = null } = {}) {
    super();
    this.video = video;
    // A show's co-host camera: a second video and audio m-line on the same connection,
    // which the relay fills while someone co-hosts (streaming/relay.py, viewer_slots).
    this.cohostVideo = cohostVideo;
    this.getGrant = asSource(getGrant);
    this.pc = null;
    this.peerId = null;
    this.peerToken = null;
    this.info = null;
    this.hls = null;
    this.backoff = 500;
    this._wake = null;
    this._run();
  }

  // A wait that moved() cuts short.
  _pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() { clearTimeout(timer); resolve(); }
      this._wake = done;
    });
  }

  // The room moved to another relay: drop this connection and take a new grant now.
  moved(relayUrl) {
    if (this.closed || (this.info && relayUrl && sameRelay(this.info.relay_url, relayUrl))) return;
    this._movedTo = relayUrl || true;
    if (this.pc) this.pc.close(); // _watch sees "closed" when it wakes, below
    if (this._wake) this._wake();
  }

  async _run() {
    while (!this.closed) {
      try {
        this.info = await this.getGrant();
        const status = await this._status();
        if (status.full && status.hls) {
          await this._playHls(status.hls);
          return;
        }
        if (status.publisher === "none") {
          this._set("waiting");
          await this._pause(STATUS_POLL_MS);
          continue;
        }
        await this._connect();
        this.backoff = 500;
        await this._watch();
      } catch (err) {
        if (this.closed) return;
        // The lost peer is gone for good (a restarted relay never knew it): its token
        // would make every status request from now on a 401.
        this._teardown();
        if (err instanceof RelayError && err.code === "room_full") {
          const status = await this._status().catch(() => ({}));
          if (status.hls) { await this._playHls(status.hls); return; }
        }
        this._set(navigator.onLine === false || err instanceof TypeError ? "offline" : "reconnecting");
        if (this._movedTo) {
          this._movedTo = null; // a new grant at once: it names the room's new relay
          this.backoff = 500;
          continue;
        }
        await this._pause(this.backoff);
        this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  async _status() {
    // Our peer's token once connected (the grant expires in a minute), the grant before.
    const token = this.peerToken || this.info.grant;
    const response = await fetch(`${this.info.relay_url}/rooms/${encodeURIComponent(this.info.room)}/status`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    if (!response.ok) throw new RelayError(response.status, "status", t("No status from the video server."));
    const status = await response.json();
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
    return status;
  }

  async _connect() {
    this._teardown();
    // Every m-line on one transport: the relay answers a two-camera offer so too.
    const pc = new RTCPeerConnection(rtcConfiguration(this.info, this.cohostVideo ? { bundlePolicy: "max-bundle" } : {}));
    this.pc = pc;
    const host = [pc.addTransceiver("video", { direction: "recvonly" }), pc.addTransceiver("audio", { direction: "recvonly" })];
    if (this.cohostVideo) {
      pc.addTransceiver("video", { direction: "recvonly" });
      pc.addTransceiver("audio", { direction: "recvonly" });
    }
    const stream = new MediaStream();
    const cohostStream = new MediaStream();
    pc.addEventListener("track", (event) => {
      const mine = host.includes(event.transceiver);
      const video = mine ? this.video : this.cohostVideo;
      (mine ? stream : cohostStream).addTrack(event.track);
      video.srcObject = mine ? stream : cohostStream;
      video.play().catch(() => {});
    });
    this._set(this.state === "playing" ? "reconnecting" : "connecting");
    ({ peerId: this.peerId, peerToken: this.peerToken } = await signal(pc, this.info));
  }

  // Resolves when the connection is lost; meanwhile reports the publisher's state.
  async _watch() {
    const pc = this.pc;
    const since = Date.now();
    while (!this.closed && pc === this.pc) {
      const failed = pc.connectionState === "failed" || pc.connectionState === "closed";
      if (failed) throw new Error("connection lost");
      // Connected but no picture for a while (a lost first keyframe): start again.
      if (this.video.videoWidth === 0 && Date.now() - since > NO_PICTURE_MS) {
        throw new Error("no picture");
      }
      let status = null;
      try {
        status = await this._status();
      } catch (err) {
        status = null; // the relay's HTTP side is briefly unreachable; the media may still flow
      }
      if (status && status.publisher === "reconnecting") this._set("host-reconnecting");
      else if (status && status.publisher === "none") this._set("waiting");
      else if (pc.connectionState === "connected") this._set("playing");
      else if (pc.connectionState === "disconnected") this._set("reconnecting");
      await this._pause(pc.connectionState === "connected" ? STATUS_POLL_MS : 700);
      if (pc.connectionState === "disconnected" && this.state === "reconnecting") {
        await this._pause(2000);
        if (pc.connectionState !== "connected") throw new Error("connection lost");
      }
    }
  }

  async _playHls(path) {
    this._teardown();
    const url = new URL(path, this.info.relay_url).href;
    // hls.js wherever Media Source works; the browser's own HLS only without it (older
    // iPhones): hls.js plays LL-HLS parts and blocking reload, which Chromium's own may not.
    const Hls = await loadHls();
    if (Hls && Hls.isSupported()) {
      // LL-HLS (docs/hls.md): parts and blocking reload. hls.js aims at the playlist's
      // PART-HOLD-BACK behind live; after a stall it aims a quarter second further back
      // (not its default full second, which a loaded phone's first stalls would pile up
      // into seconds of delay), and it plays up to 1.5x until it is back on its aim
      // (browsers keep the voice's pitch).
      this.hls = new Hls({
        lowLatencyMode: true,
        liveSyncOnStallIncrease: 0.25,
        maxLiveSyncPlaybackRate: 1.5,
      });
      this.hls.loadSource(url);
      this.hls.attachMedia(this.video);
    } else if (this.video.canPlayType("application/vnd.apple.mpegurl")) {
      this.video.src = url;
    } else {
      throw new Error(t("This browser cannot play the stream."));
    }
    this.video.play().catch(() => {});
    this._set("hls");
  }

  _teardown() {
    if (this.pc) {
      this.pc.close();
      hangUp(this.info.relay_url, this.peerId, this.peerToken);
    }
    this.pc = null;
    this.peerId = null;
    this.peerToken = null;
  }

  close() {
    this.closed = true;
    if (this.info) this._teardown();
    if (this.hls) this.hls.destroy();
    this._set("closed");
  }
}

function loadHls() {
  if (window.Hls) return Promise.resolve(window.Hls);
  return new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = "/static/vendor/hls.min.js";
    script.onload = () => resolve(window.Hls);
    script.onerror = () => resolve(null);
    document.head.appendChild(script);
  });
}

export function view(video, getGrant, options = {}) {
  return new Viewer(video, getGrant, options);
}

// --- publishing ---------------------------------------------------------------

class Publisher extends MediaLink {
  constructor(stream, getGrant) {
    super();
    this.stream = stream;
    this.getGrant = asSource(getGrant);
    this.pc = null;
    this.peerId = null;
    this.peerToken = null;
    this.info = null;
  }

  async start() {
    this._set("connecting");
    await this._connect();
    return this;
  }

  async _connect() {
    this.info = await this.getGrant();
    const pc = new RTCPeerConnection(rtcConfiguration(this.info));
    this.pc = pc;
    for (const track of this.stream.getTracks()) {
      pc.addTransceiver(track, { direction: "sendonly", streams: [this.stream] });
    }
    pc.addEventListener("connectionstatechange", () => this._onState(pc));
    ({ peerId: this.peerId, peerToken: this.peerToken } = await signal(pc, this.info));
    if (pc.connectionState === "connected") this._set("live");
  }

  // The room moved to another relay: publish there now (a new grant names it).
  moved(relayUrl) {
    if (this.closed || !this.info || (relayUrl && sameRelay(this.info.relay_url, relayUrl))) return;
    this._reconnect();
  }

  _onState(pc) {
    if (pc !== this.pc || this.closed) return;
    if (pc.connectionState === "connected") this._set("live");
    if (pc.connectionState === "disconnected") this._set("reconnecting");
    if (pc.connectionState === "failed") this._reconnect();
  }

  async _reconnect() {
    if (this._reconnecting) return; // moved() and a failed connection may both ask
    this._reconnecting = true;
    try {
      await this._reconnectLoop();
    } finally {
      this._reconnecting = false;
    }
  }

  async _reconnectLoop() {
    this._set("reconnecting");
    let backoff = 500;
    while (!this.closed) {
      try {
        if (this.pc) this.pc.close();
        await this._connect();
        return;
      } catch (err) {
        await sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  // Switch camera or microphone without renegotiating.
  async replaceTrack(track) {
    const sender = this.pc && this.pc.getSenders().find((s) => s.track && s.track.kind === track.kind);
    if (sender) await sender.replaceTrack(track);
  }

  close() {
    this.closed = true;
    if (this.pc) this.pc.close();
    // A DELETE tells the relay the broadcast ended on purpose (not "reconnecting").
    if (this.info) hangUp(this.info.relay_url, this.peerId, this.peerToken);
    this._set("closed");
  }
}

export async function publish(stream, getGrant) {
  return new Publisher(stream, getGrant).start();
}

// A JPEG of the room's current picture, taken by the relay (publish grant needed).
// { colour: true }: the picture the reference card is measured in, a lossless PNG of the
// mean of the next frames (two seconds) rather than one frame's JPEG (docs/colour.md).
export async function takeSnapshot(grantInfo, { colour = false } = {}) {
  const response = await fetch(
    `${grantInfo.relay_url}/rooms/${encodeURIComponent(grantInfo.room)}/snapshot${colour ? "?colour=1" : ""}`,
    { method: "POST", headers: { Authorization: `Bearer ${grantInfo.grant}` } },
  );
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new RelayError(response.status, body.error || "snapshot", body.message || t("No picture yet."));
  }
  return response.blob();
}
