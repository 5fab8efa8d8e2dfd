// ksim's message tokens, drawn on a thread of their own. The page (src/ui/tokens.rs) hands this
// worker its tokens' canvas once ({ canvas }), then, each time it publishes (eight times a second
// while playing) or something moves, sends what flies as one Float64Array:
//   [0..4]  the part of the cluster the canvas covers: left, top, width, height (cluster px)
//   [4]     device pixels per px
//   [5, 6]  the model's instant (ms) at wall instant [6] (performance.timeOrigin +
//           performance.now(), ms)
//   [7]     simulated ms per wall ms; 0 while paused
//   [8]     wall ms the tokens are drawn behind the model while playing, so every token that
//           sets off before the next message is already known when it is drawn
//   [9]     simulated ms a token takes to travel
//   [10]    how many numbers the paths take, P
//   then P numbers of paths: per path, its point count n, then n x, y pairs (cluster px);
//   then the tokens, 5 numbers each: where its path starts among the paths, when it set off
//   (simulated ms), its partition, its label, and 1 when the label is a producer's sequence
//   number.
// Between messages the worker moves the tokens on by the wall clock, never past the model's
// instant it was last sent; it stops drawing when nothing moves.

const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442'];
// Above this many tokens on one path at once, the path is a stream (a moving dashed line as wide
// as the flow is busy) instead of dots piling into a streak.
const STREAM_ABOVE = 4;
// Above this many dots, they go without labels: labels would cover each other.
const MAX_LABELS = 60;
// Frames at most this often (wall ms): 30 a second.
const FRAME_MS = 33;

let canvas = null;
let cx = null;
let state = null;
let asked = false;
let drawnAt = -Infinity;
// The instant last drawn, so a still picture is not drawn again.
let drawnSim = NaN;

const wallNow = () => performance.timeOrigin + performance.now();

// The model's instant to draw at wall instant `wall`.
function simAt(s, wall) {
  if (!s.speed) return s.sim;
  return Math.min(s.sim, s.sim + (wall - s.wall - s.lag) * s.speed);
}

// The point `share` (0..1) of the way along the path starting at `at` in `paths`.
function pointAt(paths, at, share) {
  const n = paths[at];
  let total = 0;
  for (let i = 1; i < n; i++) total += Math.hypot(paths[at + 1 + 2 * i] - paths[at - 1 + 2 * i], paths[at + 2 + 2 * i] - paths[at + 2 * i]);
  let left = total * share;
  for (let i = 1; i < n; i++) {
    const x0 = paths[at - 1 + 2 * i], y0 = paths[at + 2 * i];
    const x1 = paths[at + 1 + 2 * i], y1 = paths[at + 2 + 2 * i];
    const l = Math.hypot(x1 - x0, y1 - y0);
    if (left <= l && l > 0) return [x0 + ((x1 - x0) * left) / l, y0 + ((y1 - y0) * left) / l];
    left -= l;
  }
  return n > 0 ? [paths[at + 2 * n - 1], paths[at + 2 * n]] : [0, 0];
}

function draw(s, sim, wall) {
  const [left, top, width, height] = s.clip;
  const w = Math.max(0, Math.round(width * s.ratio)), h = Math.max(0, Math.round(height * s.ratio));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  } else {
    cx.setTransform(1, 0, 0, 1, 0, 0);
    cx.clearRect(0, 0, w, h);
  }
  if (w === 0 || h === 0) return;
  // Drawn in the cluster's coordinates, moved to the canvas's box.
  cx.setTransform(s.ratio, 0, 0, s.ratio, -left * s.ratio, -top * s.ratio);
  const { tokens, paths, flight } = s;
  // The tokens in flight now, and how many share each path.
  const flying = [];
  const onPath = new Map();
  for (let i = 0; i < tokens.length; i += 5) {
    const p = (sim - tokens[i + 1]) / flight;
    if (p < 0 || p > 1) continue;
    flying.push(i, p);
    onPath.set(tokens[i], (onPath.get(tokens[i]) ?? 0) + 1);
  }
  // Busy paths become streams: one moving dashed line each, as wide as the flow is busy.
  let dots = 0;
  const streamed = new Set();
  for (let k = 0; k < flying.length; k += 2) {
    const i = flying[k], path = tokens[i], busy = onPath.get(path);
    if (busy <= STREAM_ABOVE) {
      dots++;
      continue;
    }
    if (streamed.has(path)) continue;
    streamed.add(path);
    cx.globalAlpha = 0.7;
    cx.strokeStyle = COLORS[tokens[i + 2] % COLORS.length];
    cx.lineWidth = Math.min(1.5 + busy / 6, 7);
    cx.setLineDash([8, 6]);
    cx.lineDashOffset = -(wall / 30) % 14;
    cx.beginPath();
    for (let j = 0; j < paths[path]; j++) {
      const x = paths[path + 1 + 2 * j], y = paths[path + 2 + 2 * j];
      if (j === 0) cx.moveTo(x, y);
      else cx.lineTo(x, y);
    }
    cx.stroke();
  }
  cx.setLineDash([]);
  const labelled = dots <= MAX_LABELS;
  if (labelled) {
    cx.font = '600 10px system-ui, sans-serif';
    cx.textAlign = 'center';
    cx.textBaseline = 'middle';
  }
  const radius = labelled ? 10 : 5;
  for (let k = 0; k < flying.length; k += 2) {
    const i = flying[k], p = flying[k + 1];
    if (onPath.get(tokens[i]) > STREAM_ABOVE) continue;
    const [x, y] = pointAt(paths, tokens[i], p * p * (3 - 2 * p));
    cx.globalAlpha = p > 0.85 ? (1 - p) / 0.15 : 1;
    cx.fillStyle = COLORS[tokens[i + 2] % COLORS.length];
    cx.beginPath();
    cx.arc(x, y, radius, 0, Math.PI * 2);
    cx.fill();
    if (labelled) {
      cx.fillStyle = '#ffffff';
      cx.fillText(`${tokens[i + 4] ? '#' : ''}${tokens[i + 3]}`, x, y);
    }
  }
  cx.globalAlpha = 1;
}

// Whether a token still moves after instant `sim`.
function moving(s, sim) {
  if (!s.speed || sim >= s.sim) return false;
  for (let i = 0; i < s.tokens.length; i += 5) if (s.tokens[i + 1] + s.flight > sim) return true;
  return false;
}

function frame() {
  asked = false;
  if (!state || !cx) return;
  const wall = wallNow();
  if (wall - drawnAt < FRAME_MS - 4) return ask(); // at most 30 frames a second
  const sim = simAt(state, wall);
  if (sim !== drawnSim || state.fresh) {
    draw(state, sim, wall);
    drawnAt = wall;
    drawnSim = sim;
    state.fresh = false;
  }
  if (moving(state, sim)) ask();
}

function ask() {
  if (asked) return;
  asked = true;
  if (typeof self.requestAnimationFrame === 'function') self.requestAnimationFrame(frame);
  else setTimeout(frame, FRAME_MS);
}

self.onmessage = (event) => {
  const m = event.data;
  if (m.canvas) {
    canvas = m.canvas;
    cx = canvas.getContext('2d');
    return;
  }
  const paths = 11 + m[10];
  state = {
    clip: [m[0], m[1], m[2], m[3]],
    ratio: m[4],
    sim: m[5],
    wall: m[6],
    speed: m[7],
    lag: m[8],
    flight: m[9],
    paths: m.subarray(11, paths),
    tokens: m.subarray(paths),
    fresh: true, // drawn on the next frame even if the instant is the same
  };
  ask();
};
