// The demo page: plain browser JavaScript, no build step. `window.demo` exposes the two
// SockJS connections so the end-to-end tests (and curious people in the console) can look.
(function () {
  'use strict';

  const TRANSPORTS = [
    'websocket',
    'xhr-streaming',
    'xhr-polling',
    'eventsource',
    'iframe-eventsource',
    'iframe-htmlfile',
    'iframe-xhr-polling',
    'jsonp-polling',
  ];
  const LATENCY_EVERY_MS = 2000;
  const STATS_EVERY_MS = 2000;
  const LATENCY_SAMPLES = 10;

  const config = window.DEMO_CONFIG || { servicesPort: null };
  const servicesOrigin =
    config.servicesPort === null
      ? location.origin
      : location.protocol + '//' + location.hostname + ':' + config.servicesPort;
  const requested = new URLSearchParams(location.search).get('transport') || '';
  const forced = TRANSPORTS.includes(requested) ? requested : null;
  const sockOptions = forced === null ? {} : { transports: [forced] };

  const $ = (id) => document.getElementById(id);
  const log = $('log');
  const input = $('message');
  const send = $('send');
  const status = $('status');

  const demo = {
    servicesOrigin,
    forced,
    chat: null,
    echo: null,
    me: null,
    lastClose: null,
    lastEchoClose: null,
    latencies: [],
  };
  window.demo = demo;

  $('transport-select').value = forced === null ? '' : forced;
  $('page-origin').textContent = location.origin;
  $('services-origin').textContent =
    servicesOrigin === location.origin ? 'same origin' : servicesOrigin + ' (cross-origin)';
  if (requested !== '' && forced === null) {
    notice('Unknown transport "' + requested + '": connecting with the best available one.');
  }

  // ---- chat -------------------------------------------------------------------------

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function setChatEnabled(enabled) {
    input.disabled = !enabled;
    send.disabled = !enabled;
  }

  function append(item) {
    const nearBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    log.appendChild(item);
    if (nearBottom) log.scrollTop = log.scrollHeight;
  }

  function notice(text) {
    const item = document.createElement('li');
    item.className = 'notice';
    item.textContent = text;
    append(item);
  }

  function who(member) {
    const self = demo.me !== null && member.name === demo.me.name;
    return member.name + (self ? ' (you)' : '');
  }

  function chatMessage(event) {
    const item = document.createElement('li');
    item.className = 'message' + (demo.me !== null && event.from.name === demo.me.name ? ' mine' : '');
    const meta = document.createElement('div');
    meta.className = 'meta';
    const from = document.createElement('span');
    from.className = 'from';
    from.textContent = who(event.from);
    const via = document.createElement('span');
    via.className = 'via';
    via.textContent = event.from.transport + (event.from.server ? ' · ' + event.from.server : '');
    const time = document.createElement('time');
    const at = new Date(event.at);
    time.dateTime = at.toISOString();
    time.textContent = at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    meta.append(from, via, time);
    const text = document.createElement('p');
    text.className = 'text';
    text.textContent = event.text;
    item.append(meta, text);
    append(item);
  }

  const members = new Map();
  function renderMembers() {
    const list = $('members');
    list.replaceChildren();
    if (members.size === 0) {
      const item = document.createElement('li');
      item.className = 'empty';
      item.textContent = 'Nobody you can see: not connected.';
      list.appendChild(item);
    }
    for (const member of members.values()) {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = who(member);
      const via = document.createElement('span');
      via.className = 'via';
      via.textContent = member.transport + (member.server ? ' · ' + member.server : '');
      item.append(name, via);
      list.appendChild(item);
    }
  }

  function onChatEvent(event) {
    switch (event.type) {
      case 'welcome':
        demo.me = event.you;
        $('me').textContent = event.you.name;
        if (event.server) {
          // Several demo processes behind a balancer: which one holds this connection.
          $('server').textContent = event.server;
          $('server').hidden = false;
          $('server-label').hidden = false;
        }
        members.clear();
        for (const member of event.members) members.set(member.name, member);
        renderMembers();
        notice('You joined as ' + event.you.name + '.');
        break;
      case 'join':
        // With several processes the room announces everyone, newcomers included.
        if (demo.me !== null && event.member.name === demo.me.name) break;
        members.set(event.member.name, event.member);
        renderMembers();
        notice(event.member.name + ' joined over ' + event.member.transport + '.');
        break;
      case 'leave':
        members.delete(event.member.name);
        renderMembers();
        notice(event.member.name + ' left.');
        break;
      case 'message':
        chatMessage(event);
        break;
      case 'error':
        notice(event.message);
        break;
    }
  }

  function connectChat() {
    setStatus('connecting', 'Connecting…');
    const sock = new SockJS(servicesOrigin + '/chat', null, sockOptions);
    demo.chat = sock;
    sock.onopen = () => {
      setStatus('open', 'Connected');
      $('transport').textContent = sock.transport;
      setChatEnabled(true);
      input.focus();
    };
    sock.onmessage = (e) => onChatEvent(JSON.parse(e.data));
    sock.onclose = (e) => {
      demo.lastClose = { code: e.code, reason: e.reason };
      demo.me = null;
      members.clear();
      renderMembers();
      setChatEnabled(false);
      $('transport').textContent = '—';
      $('me').textContent = '—';
      setStatus('closed', 'Disconnected (' + e.code + ' ' + e.reason + ')');
      notice('Connection closed: ' + e.code + ' ' + e.reason + '.');
      showReconnect();
    };
  }

  function showReconnect() {
    if ($('reconnect')) return;
    const button = document.createElement('button');
    button.type = 'button';
    button.id = 'reconnect';
    button.className = 'reconnect';
    button.textContent = 'Reconnect';
    button.addEventListener('click', () => {
      button.remove();
      if (demo.chat.readyState === SockJS.CLOSED) connectChat();
      if (demo.echo.readyState === SockJS.CLOSED) connectEcho();
    });
    status.after(button);
  }

  $('chat-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value;
    if (text.trim() === '' || demo.chat === null || demo.chat.readyState !== SockJS.OPEN) return;
    demo.chat.send(text);
    input.value = '';
  });

  // ---- latency over the echo service ------------------------------------------------

  let pingTimer = null;
  let pingSeq = 0;

  function showLatency() {
    const samples = demo.latencies;
    const last = samples[samples.length - 1];
    const sorted = samples.slice().sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    $('latency').textContent = formatMs(last);
    $('latency-detail').textContent = '(median ' + formatMs(median) + ' of ' + samples.length + ')';
  }

  function formatMs(ms) {
    return (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) + ' ms';
  }

  function connectEcho() {
    const sock = new SockJS(servicesOrigin + '/echo', null, sockOptions);
    demo.echo = sock;
    const ping = () => {
      if (sock.readyState !== SockJS.OPEN) return;
      pingSeq += 1;
      sock.send('ping:' + pingSeq + ':' + performance.now());
    };
    sock.onopen = () => {
      ping();
      pingTimer = setInterval(ping, LATENCY_EVERY_MS);
    };
    sock.onmessage = (e) => {
      const parts = String(e.data).split(':');
      if (parts.length !== 3 || parts[0] !== 'ping') return;
      demo.latencies.push(performance.now() - Number(parts[2]));
      if (demo.latencies.length > LATENCY_SAMPLES) demo.latencies.shift();
      showLatency();
    };
    sock.onclose = (e) => {
      demo.lastEchoClose = { code: e.code, reason: e.reason };
      clearInterval(pingTimer);
      $('latency').textContent = '—';
      $('latency-detail').textContent = '(echo closed)';
      showReconnect();
    };
  }

  // ---- server statistics -------------------------------------------------------------

  function formatBytes(bytes) {
    if (bytes < 1024) return bytes + ' B';
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + ' KiB';
    return (bytes / 1024 / 1024).toFixed(1) + ' MiB';
  }

  function renderStats(stats) {
    $('stats-instance').textContent = stats.instance ? '(' + stats.instance + ')' : '';
    const byTransport = {};
    for (const service of ['chat', 'echo']) {
      const s = stats[service];
      $('stat-' + service + '-connections').textContent = String(s.connections);
      $('stat-' + service + '-messagesIn').textContent = s.messagesIn.toLocaleString('en');
      $('stat-' + service + '-messagesOut').textContent = s.messagesOut.toLocaleString('en');
      $('stat-' + service + '-bytesIn').textContent = formatBytes(s.bytesIn);
      $('stat-' + service + '-bytesOut').textContent = formatBytes(s.bytesOut);
      for (const [name, count] of Object.entries(s.connectionsByProtocol)) {
        byTransport[name] = (byTransport[name] || 0) + count;
      }
    }
    const parts = Object.entries(byTransport)
      .filter(([, count]) => count > 0)
      .map(([name, count]) => name + ' ' + count);
    $('stat-by-transport').textContent = parts.length > 0 ? parts.join(', ') : 'none';
  }

  async function pollStats() {
    try {
      const response = await fetch(servicesOrigin + '/stats', { cache: 'no-store' });
      if (!response.ok) throw new Error('HTTP ' + response.status);
      renderStats(await response.json());
    } catch (error) {
      $('stat-by-transport').textContent = 'unavailable (' + error.message + ')';
    }
    setTimeout(pollStats, STATS_EVERY_MS);
  }

  connectChat();
  connectEcho();
  pollStats();
})();
