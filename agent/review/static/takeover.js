// The takeover live view: the workspace's screen on a canvas, the person's input sent back.
// One WebSocket next to this page's address (so it works under a reverse proxy's path);
// frames arrive as binary messages, everything else as JSON. Only the holder's input is
// acted on (the server decides; a watcher's page sends nothing). Page text (title, URL) is
// shown with textContent, never as HTML.
(() => {
  'use strict';
  const root = document.getElementById('live');
  if (!root) return;
  const canvas = document.getElementById('live-screen');
  const ctx = canvas.getContext('2d');
  const who = document.getElementById('live-who');
  const urlBox = document.getElementById('live-url');
  const title = document.getElementById('live-title');
  const error = document.getElementById('live-error');
  const textForm = document.getElementById('live-text');
  const textBox = document.getElementById('live-text-input');
  let drives = false;
  let size = [canvas.width, canvas.height];
  let frames = 0;

  const address = new URL(location.pathname.replace(/\/+$/, '') + '/socket', location.href);
  address.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(address);
  ws.binaryType = 'blob';

  const send = (message) => {
    if (drives && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(message));
  };
  const showError = (why) => {
    error.textContent = why;
    error.hidden = !why;
  };

  ws.onmessage = (event) => {
    if (typeof event.data !== 'string') {
      createImageBitmap(event.data).then((bitmap) => {
        ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        bitmap.close();
        frames += 1;
        root.dataset.frames = String(frames);
      }, () => {});
      return;
    }
    const m = JSON.parse(event.data);
    if (m.type === 'state') {
      drives = m.you_drive;
      if (m.size[0] > 0 && (canvas.width !== m.size[0] || canvas.height !== m.size[1])) {
        canvas.width = m.size[0];
        canvas.height = m.size[1];
      }
      size = m.size;
      const others = m.watching.filter((name) => name !== m.you);
      who.textContent = (drives ? 'You drive this session.' : `${m.driver} drives this session: you watch.`)
        + (others.length ? ` Also watching: ${others.join(', ')}.` : '');
      if (document.activeElement !== urlBox) urlBox.value = m.url;
      title.textContent = m.title;
      root.dataset.url = m.url;
      root.dataset.title = m.title;
      root.dataset.drives = drives ? 'yes' : 'no';
      root.dataset.driver = m.driver;
      for (const el of root.querySelectorAll('input, button')) el.disabled = !drives;
      if (m.kind === 'device') document.getElementById('live-address').hidden = true;
    } else if (m.type === 'error') {
      showError(m.why);
    } else if (m.type === 'ended') {
      drives = false;
      root.dataset.ended = m.why;
      who.textContent = `The live view ended: ${m.why}.`;
    }
  };
  ws.onclose = () => {
    if (!root.dataset.ended) {
      root.dataset.ended = 'disconnected';
      who.textContent = 'The live view is disconnected: reload the page to reconnect.';
    }
  };

  const mods = (e) => (e.altKey ? 1 : 0) | (e.ctrlKey ? 2 : 0) | (e.metaKey ? 4 : 0) | (e.shiftKey ? 8 : 0);
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    const x = Math.max(0, Math.min(size[0], (e.clientX - r.left) * size[0] / r.width));
    const y = Math.max(0, Math.min(size[1], (e.clientY - r.top) * size[1] / r.height));
    return {x: Math.round(x * 10) / 10, y: Math.round(y * 10) / 10};
  };
  const BUTTONS = ['left', 'middle', 'right'];
  let pressed = false;
  let moveQueued = null;
  let last = {t: 0, x: -99, y: -99, n: 0}; // for double and triple clicks
  const clickCount = (p) => {
    const now = performance.now();
    const near = Math.abs(p.x - last.x) < 5 && Math.abs(p.y - last.y) < 5 && now - last.t < 400;
    last = {t: now, x: p.x, y: p.y, n: near ? Math.min(last.n + 1, 3) : 1};
    return last.n;
  };

  canvas.addEventListener('pointerdown', (e) => {
    canvas.focus({preventScroll: true}); // a scroll now would move the click
    e.preventDefault();
    pressed = true;
    const p = at(e);
    send({type: 'mouse', action: 'down', ...p, button: BUTTONS[e.button] || 'left', clicks: clickCount(p), mods: mods(e)});
  });
  canvas.addEventListener('pointerup', (e) => {
    e.preventDefault();
    pressed = false;
    send({type: 'mouse', action: 'up', ...at(e), button: BUTTONS[e.button] || 'left', clicks: last.n || 1, mods: mods(e)});
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!pressed) return; // a drag (selecting, a swipe); hovering is not sent
    const first = moveQueued === null;
    moveQueued = {type: 'mouse', action: 'move', ...at(e), button: 'none', clicks: 0, mods: mods(e)};
    if (first) requestAnimationFrame(() => { send(moveQueued); moveQueued = null; });
  });
  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  canvas.addEventListener('wheel', (e) => {
    e.preventDefault();
    send({type: 'wheel', ...at(e), dx: e.deltaX, dy: e.deltaY});
  }, {passive: false});

  const pasteKey = (e) => (e.ctrlKey || e.metaKey) && (e.key === 'v' || e.key === 'V');
  canvas.addEventListener('keydown', (e) => {
    if (pasteKey(e)) return; // the paste event below carries the text
    e.preventDefault();
    send({type: 'key', action: 'down', key: e.key, code: e.code, mods: mods(e)});
  });
  canvas.addEventListener('keyup', (e) => {
    if (pasteKey(e)) return;
    e.preventDefault();
    send({type: 'key', action: 'up', key: e.key, code: e.code, mods: mods(e)});
  });
  canvas.addEventListener('paste', (e) => {
    const text = e.clipboardData ? e.clipboardData.getData('text') : '';
    e.preventDefault();
    if (text) send({type: 'text', text});
  });
  textForm.addEventListener('submit', (e) => {
    e.preventDefault();
    if (textBox.value) send({type: 'text', text: textBox.value});
    textBox.value = '';
    canvas.focus({preventScroll: true});
  });
  document.getElementById('live-address').addEventListener('submit', (e) => {
    e.preventDefault();
    if (urlBox.value.trim()) send({type: 'go', url: urlBox.value.trim()});
    showError('');
  });
  document.getElementById('live-back').addEventListener('click', () => send({type: 'back'}));
  document.getElementById('live-reload').addEventListener('click', () => send({type: 'reload'}));
})();
