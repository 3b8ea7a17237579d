// The svd-ts web page: plain ES module, no build step, no third-party code. It talks to the same HTTP API as curl:
// GET /v1/model (the model's defaults and camera-motion LoRAs: the camera selector shows only when there are some),
// POST /v1/videos (multipart), the job's Server-Sent Events (read with fetch so that an API key can be sent; resumed
// with Last-Event-ID after a dropped connection), the video file, and GET /v1/videos for the gallery.

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = 'svd-api-key';
let apiKey = sessionStorage.getItem(KEY_STORAGE) ?? '';
let currentJob;
let following;
let galleryCursor;
const objectUrls = new Set();

function headers(extra = {}) {
  return apiKey ? { ...extra, authorization: `Bearer ${apiKey}` } : extra;
}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: headers(init.headers) });
  if (res.status === 401) {
    $('key-form').hidden = false;
    throw new Error('This server needs an API key: enter it at the top of the page.');
  }
  return res;
}

async function errorText(res) {
  try {
    const body = await res.json();
    if (Array.isArray(body.issues) && body.issues.length > 0) {
      return body.issues
        .map((i) => `${i.field}: ${i.value !== undefined ? `${JSON.stringify(i.value)} — ` : ''}expected ${i.expected}`)
        .join('\n');
    }
    return body.error ?? `HTTP ${res.status}`;
  } catch {
    return `HTTP ${res.status} ${res.statusText}`;
  }
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

function blobUrl(blob) {
  const url = URL.createObjectURL(blob);
  objectUrls.add(url);
  return url;
}

// ---- image picking ----
let pickedFile;

function pick(file) {
  if (!file) return;
  if (!['image/png', 'image/jpeg', 'image/webp'].includes(file.type)) {
    showError(`${file.name}: pick a PNG, JPEG or WebP image.`);
    return;
  }
  pickedFile = file;
  showError('');
  const img = $('image-preview');
  img.src = blobUrl(file);
  img.hidden = false;
  $('drop-text').textContent = `${file.name} (${Math.round(file.size / 1024)} KiB) — drop or click to change`;
}

function setupDrop() {
  const drop = $('drop');
  $('image').addEventListener('change', (e) => pick(e.target.files[0]));
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    pick(e.dataTransfer.files[0]);
  });
}

// ---- submitting ----
async function submit(image, fields) {
  const form = new FormData();
  form.append('image', image, image.name ?? 'image');
  for (const [k, v] of Object.entries(fields)) if (v !== '' && v !== undefined && v !== null) form.append(k, String(v));
  const res = await api('/v1/videos', { method: 'POST', body: form });
  if (res.status === 429) {
    throw new Error(`The queue is full. Try again in ${res.headers.get('retry-after') ?? 'a few'} seconds.`);
  }
  if (res.status !== 202) throw new Error(await errorText(res));
  return res.json();
}

async function onSubmit(e) {
  e.preventDefault();
  showError('');
  if (!pickedFile) {
    showError('Pick an image first.');
    return;
  }
  const data = new FormData($('generate-form'));
  const fields = {};
  for (const name of ['frames', 'steps', 'fps', 'motionBucket', 'minCfg', 'maxCfg', 'seed', 'size']) {
    const v = String(data.get(name) ?? '').trim();
    if (v !== '') fields[name] = v;
  }
  if (fields.seed === undefined) fields.seed = 'random';
  const scale = String(data.get('cameraScale') ?? '').trim() || '1';
  const camera = data.getAll('camera').map((name) => `${name}:${scale}`);
  if (camera.length > 0) fields.lora = camera.join(',');
  $('submit').disabled = true;
  try {
    const job = await submit(pickedFile, fields);
    follow(job.id);
    refreshGallery();
  } catch (err) {
    showError(err.message);
  } finally {
    $('submit').disabled = false;
  }
}

// ---- the model: defaults as placeholders, the camera-motion LoRAs ----
const DEFAULT_FIELDS = ['frames', 'steps', 'fps', 'motionBucket', 'minCfg', 'maxCfg'];

function showModel(info) {
  for (const name of DEFAULT_FIELDS) {
    const input = document.querySelector(`#generate-form input[name=${name}]`);
    if (input && info.defaults?.[name] !== undefined) input.placeholder = `${info.defaults[name]} (model default)`;
  }
  const sizeDefault = document.querySelector('#generate-form select[name=size] option[value=""]');
  if (sizeDefault && info.defaults?.size) sizeDefault.textContent = `model default (${info.defaults.size})`;
  const names = Array.isArray(info.cameraLoras) ? info.cameraLoras : [];
  const options = $('camera-options');
  options.replaceChildren();
  for (const name of names) {
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.name = 'camera';
    box.value = name;
    label.append(box, ` ${name.replace('-', ' ')}`);
    options.append(label);
  }
  $('camera').hidden = names.length === 0;
}

async function loadModel() {
  const res = await api('/v1/model');
  if (!res.ok) throw new Error(await errorText(res));
  showModel(await res.json());
}

// ---- following a job ----
function setStatus(text) {
  $('status').textContent = text;
}

async function showResult(id, result) {
  const video = result.videos[0];
  const res = await api(video.url);
  if (!res.ok) throw new Error(await errorText(res));
  const url = blobUrl(await res.blob());
  $('video').src = url;
  let link = $('download');
  if (!link) {
    link = document.createElement('a');
    link.id = 'download';
    link.textContent = 'Download';
    $('download-row').prepend(link, ' ');
  }
  link.href = url;
  link.download = `${id}.${video.format}`;
  $('result-info').textContent =
    `${video.frames} frames, ${video.width}×${video.height}, ${video.fps} fps, seed ${video.seed}`;
  $('result').hidden = false;
}

function handleEvent(id, event, data) {
  if (currentJob !== id) return false;
  switch (event) {
    case 'snapshot':
      $('progress').value = data.progress?.fraction ?? 0;
      setStatus(`${data.state}${data.position ? ` (position ${data.position})` : ''}`);
      return false;
    case 'queued':
      setStatus(data.position ? `queued, position ${data.position}` : 'queued');
      return false;
    case 'requeued':
      setStatus(`queued again: ${data.reason}`);
      return false;
    case 'started':
      setStatus('started');
      return false;
    case 'stage':
      $('progress').value = data.progress ?? 0;
      setStatus(data.stage);
      return false;
    case 'step': {
      $('progress').value = data.progress ?? 0;
      const video = data.videos > 1 ? `video ${data.video + 1}/${data.videos}, ` : '';
      setStatus(`sampling: ${video}step ${data.i}/${data.n}`);
      if (data.preview) {
        $('step-preview').src = data.preview;
        $('step-preview').hidden = false;
      }
      return false;
    }
    case 'notice':
      return false;
    case 'done': {
      $('progress').value = 1;
      setStatus('done');
      $('cancel').hidden = true;
      const result = data.result ?? data;
      showResult(id, result).catch((err) => showError(err.message));
      refreshGallery();
      return true;
    }
    case 'failed':
      setStatus('failed');
      showError(`The job failed: ${data.error}`);
      $('cancel').hidden = true;
      refreshGallery();
      return true;
    case 'cancelled':
      setStatus('cancelled');
      $('cancel').hidden = true;
      refreshGallery();
      return true;
    default:
      return false;
  }
}

/** Reads the job's event stream; reconnects with Last-Event-ID until a terminal event. */
async function follow(id) {
  following?.abort();
  const controller = new AbortController();
  following = controller;
  currentJob = id;
  $('job').hidden = false;
  $('result').hidden = true;
  $('step-preview').hidden = true;
  $('cancel').hidden = false;
  $('progress').value = 0;
  setStatus('connecting');
  let lastId;
  for (let tries = 0; tries < 100 && !controller.signal.aborted; tries++) {
    try {
      const res = await api(`/v1/videos/${id}/events`, {
        headers: lastId ? { 'last-event-id': lastId, accept: 'text/event-stream' } : { accept: 'text/event-stream' },
        signal: controller.signal,
      });
      if (!res.ok) throw new Error(await errorText(res));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut = buffer.indexOf('\n\n');
        while (cut >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          cut = buffer.indexOf('\n\n');
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) lastId = line.slice(4);
            else if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (!data) continue;
          if (handleEvent(id, event, JSON.parse(data))) return;
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
      setStatus(`connection lost (${err.message}); reconnecting`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function cancel() {
  if (!currentJob) return;
  const res = await api(`/v1/videos/${currentJob}`, { method: 'DELETE' });
  if (!res.ok) showError(await errorText(res));
}

// ---- gallery ----
function describe(job) {
  const p = job.resolved ?? {};
  const camera = Array.isArray(p.lora) && p.lora.length > 0 ? ` · camera ${p.lora.join(', ')}` : '';
  return `${p.frames} frames · ${p.steps} steps · ${p.fps} fps · motion ${p.motionBucket} · cfg ${p.minCfg}–${p.maxCfg} · seed ${(p.seeds ?? []).join(',')} · ${p.size}${camera}`;
}

async function thumbnail(img, id) {
  try {
    const res = await api(`/v1/videos/${id}/image`);
    if (res.ok) img.src = blobUrl(await res.blob());
  } catch {
    // the gallery stays usable without its thumbnails
  }
}

async function rerun(job) {
  showError('');
  try {
    const res = await api(`/v1/videos/${job.id}/image`);
    if (!res.ok) throw new Error(await errorText(res));
    const blob = await res.blob();
    const fields = { ...job.parameters, seed: 'random' };
    delete fields.numVideos;
    const created = await submit(new File([blob], `image.${job.image.type}`, { type: blob.type }), fields);
    follow(created.id);
    refreshGallery();
  } catch (err) {
    showError(err.message);
  }
}

function card(job) {
  const li = document.createElement('li');
  const img = document.createElement('img');
  img.alt = 'input image';
  thumbnail(img, job.id);
  const state = document.createElement('p');
  state.className = `state-${job.state}`;
  state.textContent = `${job.state}${job.error && job.state === 'failed' ? `: ${job.error}` : ''}`;
  const params = document.createElement('p');
  params.textContent = describe(job);
  const when = document.createElement('p');
  when.textContent = new Date(job.createdAt).toLocaleString();
  const actions = document.createElement('div');
  actions.className = 'actions';
  const button = (text, fn) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = text;
    b.addEventListener('click', fn);
    actions.append(b);
  };
  button(job.state === 'done' ? 'Show' : 'Follow', () => follow(job.id));
  button('Re-run, new seed', () => rerun(job));
  button(job.state === 'queued' || job.state === 'running' ? 'Cancel' : 'Delete', async () => {
    const res = await api(`/v1/videos/${job.id}`, { method: 'DELETE' });
    if (!res.ok) showError(await errorText(res));
    refreshGallery();
  });
  li.append(img, state, params, when, actions);
  return li;
}

async function loadGallery(append) {
  const query = new URLSearchParams({ limit: '12' });
  if (append && galleryCursor) query.set('cursor', galleryCursor);
  const res = await api(`/v1/videos?${query}`);
  if (!res.ok) throw new Error(await errorText(res));
  const page = await res.json();
  const list = $('gallery');
  if (!append) list.replaceChildren();
  for (const job of page.videos) list.append(card(job));
  galleryCursor = page.next;
  $('more').hidden = !page.next;
}

function refreshGallery() {
  loadGallery(false).catch((err) => showError(err.message));
}

function setupKey() {
  $('api-key').value = apiKey;
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    apiKey = $('api-key').value.trim();
    sessionStorage.setItem(KEY_STORAGE, apiKey);
    showError('');
    refreshGallery();
    loadModel().catch(() => {});
  });
}

setupKey();
setupDrop();
$('generate-form').addEventListener('submit', onSubmit);
$('cancel').addEventListener('click', () => cancel().catch((err) => showError(err.message)));
$('refresh').addEventListener('click', refreshGallery);
$('more').addEventListener('click', () => loadGallery(true).catch((err) => showError(err.message)));
refreshGallery();
loadModel().catch(() => {}); // without it the page works with the server's defaults and no camera selector
