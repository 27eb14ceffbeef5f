// The rnnkit page: plain JavaScript against the server's own API; nothing is fetched from
// anywhere else.
"use strict";

const $ = (id) => document.getElementById(id);

function status(message) {
  $("status").textContent = message || "";
}

async function answer(response) {
  const body = await response.json().catch(() => ({ error: "the server's answer is not JSON" }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function postJson(path, payload) {
  return fetch(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(payload),
  });
}

function bars(container, probabilities) {
  const entries = Object.entries(probabilities).sort((a, b) => b[1] - a[1]);
  for (const [name, value] of entries) {
    const row = document.createElement("div");
    row.className = "bar-row";
    row.innerHTML = '<span class="name"></span><span class="track"><span class="bar"></span>' +
      '</span><span class="value"></span>';
    row.querySelector(".name").textContent = name;
    row.querySelector(".bar").style.width = (100 * value).toFixed(1) + "%";
    row.querySelector(".bar").style.display = "block";
    row.querySelector(".value").textContent = value.toFixed(3);
    container.appendChild(row);
  }
}

// Server-sent events over fetch: each "data:" line of an event is JSON.
async function generate() {
  status("");
  const output = $("generated");
  output.textContent = $("generate-prompt").value;
  const payload = {
    model: $("generate-model").value,
    prompt: $("generate-prompt").value,
    length: Number($("generate-length").value),
    temperature: Number($("generate-temperature").value),
    stream: true,
  };
  if ($("generate-seed").value !== "") payload.seed = Number($("generate-seed").value);
  const response = await postJson("/v1/generate", payload);
  if (!response.ok) return status((await answer(response).catch((e) => e)).message);
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const kind = (event.match(/^event: (.*)$/m) || [null, "message"])[1];
      const data = JSON.parse((event.match(/^data: (.*)$/m) || [null, "{}"])[1]);
      if (kind === "message") output.textContent += data.text;
      if (kind === "error") status(data.error);
      if (kind === "done") output.dataset.done = "true";
    }
  }
}

async function nextWords() {
  status("");
  const body = await answer(await postJson("/v1/predict", {
    model: $("next-model").value, inputs: [$("next-input").value], top_k: 5,
  }));
  const container = $("next-words");
  container.textContent = "";
  const probabilities = {};
  for (const item of body.predictions[0].next) probabilities[item.token] = item.probability;
  bars(container, probabilities);
}

async function classify() {
  status("");
  const texts = $("classify-input").value.split("\n").filter((line) => line.trim() !== "");
  const body = await answer(await postJson("/v1/predict", {
    model: $("classify-model").value, inputs: texts,
  }));
  const container = $("classified");
  container.textContent = "";
  body.predictions.forEach((prediction, index) => {
    const block = document.createElement("div");
    block.className = "result";
    const title = document.createElement("div");
    title.textContent = `${prediction.label}: ${texts[index]}`;
    block.appendChild(title);
    bars(block, prediction.probabilities);
    container.appendChild(block);
  });
}

function drawForecast(body) {
  const canvas = $("forecast-chart");
  const context = canvas.getContext("2d");
  const target = Object.keys(body.forecast).find((name) => name !== "time" && !name.includes("_q"));
  const history = body.history[target];
  const forecast = body.forecast[target];
  const levels = Object.keys(body.forecast).filter((name) => name.startsWith(target + "_q"));
  const low = levels.length ? body.forecast[levels[0]] : null;
  const high = levels.length ? body.forecast[levels[levels.length - 1]] : null;
  const all = history.concat(forecast, low || [], high || []).filter((v) => v !== null);
  const top = Math.max(...all), bottom = Math.min(...all);
  const count = history.length + forecast.length;
  const x = (i) => 40 + (i / (count - 1)) * (canvas.width - 60);
  const y = (v) => canvas.height - 30 - ((v - bottom) / (top - bottom || 1)) * (canvas.height - 50);
  context.clearRect(0, 0, canvas.width, canvas.height);
  if (low && high) {  // the interval, as a band after the history
    context.fillStyle = "rgba(214, 39, 40, 0.18)";
    context.beginPath();
    high.forEach((v, i) => context.lineTo(x(history.length + i), y(v)));
    for (let i = low.length - 1; i >= 0; i--) context.lineTo(x(history.length + i), y(low[i]));
    context.closePath();
    context.fill();
  }
  const line = (values, offset, color) => {
    context.strokeStyle = color;
    context.lineWidth = 2;
    context.beginPath();
    values.forEach((v, i) => (i ? context.lineTo : context.moveTo).call(context, x(offset + i), y(v)));
    context.stroke();
  };
  line(history, 0, "#1f77b4");
  line([history[history.length - 1]].concat(forecast), history.length - 1, "#d62728");
  context.fillStyle = "#222";
  context.fillText(top.toPrecision(4), 2, 20);
  context.fillText(bottom.toPrecision(4), 2, canvas.height - 30);
  canvas.dataset.drawn = "true";
  $("forecast-legend").textContent = `${target}: history (blue), forecast (red)` +
    (levels.length ? `, interval ${levels[0]}..${levels[levels.length - 1]} (band)` : "");
}

async function forecast() {
  status("");
  const file = $("forecast-file").files[0];
  if (!file) return status("choose a CSV file first");
  const form = new FormData();
  form.append("model", $("forecast-model").value);
  form.append("file", file);
  drawForecast(await answer(await fetch("/v1/forecast", { method: "POST", body: form })));
}

async function recognise() {
  status("");
  const file = $("recording-file").files[0];
  if (!file) return status("choose a WAV file first");
  const select = $("recording-model");
  const task = select.selectedOptions[0].dataset.task;
  const form = new FormData();
  form.append("model", select.value);
  form.append("file", file);
  const path = task === "transcribe" ? "/v1/transcribe" : "/v1/predict";
  const body = await answer(await fetch(path, { method: "POST", body: form }));
  const container = $("recording-result");
  container.textContent = "";
  if (task === "transcribe") {
    container.textContent = `transcript: ${body.text}`;
  } else {
    const prediction = body.predictions[0];
    const title = document.createElement("div");
    title.textContent = `label: ${prediction.label}`;
    container.appendChild(title);
    bars(container, prediction.probabilities);
  }
}

const SECTIONS = {
  "generate-section": ["generate-model", (m) => m.task === "lm"],
  "next-section": ["next-model", (m) => m.task === "lm"],
  "classify-section": ["classify-model", (m) => m.task === "classify"],
  "forecast-section": ["forecast-model", (m) => m.task === "forecast"],
  "recording-section": ["recording-model", (m) => m.task === "speech" || m.task === "transcribe"],
};

async function start() {
  const body = await answer(await fetch("/v1/models"));
  $("models").textContent = "Models: " +
    body.models.map((m) => `${m.name} (${m.task}, ${m.runtime})`).join(", ");
  for (const [section, [selectId, fits]] of Object.entries(SECTIONS)) {
    const chosen = body.models.filter(fits);
    if (!chosen.length) continue;
    $(section).hidden = false;
    for (const model of chosen) {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = model.name;
      option.dataset.task = model.task;
      $(selectId).appendChild(option);
    }
  }
  const guard = (action) => () => action().catch((error) => status(error.message));
  $("generate-button").onclick = guard(generate);
  $("next-button").onclick = guard(nextWords);
  $("classify-button").onclick = guard(classify);
  $("forecast-button").onclick = guard(forecast);
  $("recording-button").onclick = guard(recognise);
  document.body.dataset.ready = "true";
}

start().catch((error) => status(error.message));
