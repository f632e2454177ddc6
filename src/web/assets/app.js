// Signpost web chat: progressive enhancement of the plain HTML form.
// Without this script the form posts and the server returns the page.
// With it, answers stream over Server-Sent Events, screen readers hear one
// announcement when each answer is complete, and focus stays in the box.
(function () {
  "use strict";
  var PREFS = ["large", "contrast", "spacing", "motion", "speak", "short"];
  // Where this council's APIs are: "" or "/c/<council>" when one install
  // serves several councils.
  var base = document.documentElement.getAttribute("data-base") || "";

  function readPrefs() {
    var m = document.cookie.match(/(?:^|;\s*)sp_prefs=([^;]*)/);
    var on = m ? m[1].split(/[.,]/) : [];
    var p = {};
    PREFS.forEach(function (n) { p[n] = on.indexOf(n) >= 0; });
    return p;
  }

  function savePrefs(p) {
    var on = PREFS.filter(function (n) { return p[n]; });
    var secure = location.protocol === "https:" ? "; Secure" : "";
    document.cookie = "sp_prefs=" + (on.length ? on.join(".") : "none") +
      "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
    PREFS.forEach(function (n) {
      document.documentElement.classList.toggle("pref-" + n, !!p[n]);
    });
  }

  function setupSettings() {
    var form = document.getElementById("settings-form");
    if (!form) return;
    if ("speechSynthesis" in window) {
      var s = form.querySelector("[data-needs=speech]");
      if (s) s.hidden = false;
    }
    var status = document.getElementById("settings-status");
    function current() {
      var p = {};
      PREFS.forEach(function (n) {
        var box = document.getElementById("pref-" + n);
        p[n] = !!(box && box.checked);
      });
      return p;
    }
    form.addEventListener("change", function () { savePrefs(current()); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      savePrefs(current());
      status.textContent = "Settings saved on this device.";
    });
  }

  var URL_RE = /https?:\/\/[^\s<>]+[^\s<>.,;:)]/g;
  var PHONE_RE = /\b(0\d{3,4} ?\d{3} ?\d{3,4}|999|111)\b/g;

  // Adds text to a node with web addresses and phone numbers as links.
  function addInline(parent, text) {
    var parts = [];
    var last = 0;
    text.replace(URL_RE, function (m, off) {
      parts.push([text.slice(last, off), null]);
      parts.push([m, m]);
      last = off + m.length;
    });
    parts.push([text.slice(last), null]);
    parts.forEach(function (p) {
      if (p[1]) {
        var a = document.createElement("a");
        a.href = p[1];
        a.textContent = p[0];
        parent.appendChild(a);
        return;
      }
      var t = p[0];
      var l = 0;
      t.replace(PHONE_RE, function (m, g, off) {
        parent.appendChild(document.createTextNode(t.slice(l, off)));
        var a = document.createElement("a");
        a.href = "tel:" + m.replace(/\D/g, "");
        a.textContent = m;
        parent.appendChild(a);
        l = off + m.length;
      });
      parent.appendChild(document.createTextNode(t.slice(l)));
    });
  }

  // Reply text as paragraphs and lists, the same shape the server renders.
  function renderReply(body, text) {
    body.textContent = "";
    text.split("\n\n").forEach(function (para) {
      para = para.trim();
      if (!para) return;
      var lines = para.split("\n").map(function (l) { return l.trim(); }).filter(Boolean);
      var firstItem = lines.findIndex(function (l) { return l.indexOf("- ") === 0; });
      var isList = firstItem >= 0 && lines.slice(firstItem).every(function (l) { return l.indexOf("- ") === 0; });
      var intro = isList ? lines.slice(0, firstItem) : lines;
      if (intro.length) {
        var p = document.createElement("p");
        intro.forEach(function (l, i) {
          if (i) p.appendChild(document.createElement("br"));
          addInline(p, l);
        });
        body.appendChild(p);
      }
      if (isList) {
        var ul = document.createElement("ul");
        lines.slice(firstItem).forEach(function (l) {
          var li = document.createElement("li");
          addInline(li, l.slice(2));
          ul.appendChild(li);
        });
        body.appendChild(ul);
      }
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function setupChat() {
    var form = document.getElementById("ask");
    if (!form || !window.fetch || !window.TextDecoder) return;
    var q = document.getElementById("q");
    var turns = document.getElementById("turns");
    var status = document.getElementById("chat-status");
    var errorBox = document.getElementById("chat-error");
    var convInput = document.getElementById("conversation_id");
    var stopButton = document.getElementById("stop");
    var sendButton = document.getElementById("send");
    var controller = null;

    q.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        if (typeof form.requestSubmit === "function") form.requestSubmit();
        else form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });

    stopButton.addEventListener("click", function () {
      if (controller) controller.abort();
    });

    function showError(message, question) {
      errorBox.textContent = "";
      var p = el("p", "error-message");
      p.appendChild(el("span", "visually-hidden", "Error: "));
      addInline(p, message);
      errorBox.appendChild(p);
      if (question && !q.value) q.value = question;
    }

    // Keep the question box in view if it was in view (focus not obscured),
    // without moving the page when the reader has scrolled elsewhere.
    function keepBoxInView(wasInView) {
      if (!wasInView) return;
      q.scrollIntoView({ block: "nearest", behavior: "auto" });
    }

    function boxInView() {
      var r = q.getBoundingClientRect();
      return r.top >= 0 && r.bottom <= window.innerHeight;
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var question = q.value.trim();
      errorBox.textContent = "";
      if (!question) {
        showError("Type your question, then send it.");
        return;
      }
      if (controller) controller.abort();
      var wasInView = boxInView();
      var prefs = readPrefs();

      var user = el("li", "msg msg-user");
      user.appendChild(el("h3", "visually-hidden", "You said"));
      user.appendChild(el("p", null, question));
      var bot = el("li", "msg msg-bot");
      bot.setAttribute("aria-busy", "true");
      bot.appendChild(el("h3", "visually-hidden", "Signpost said"));
      var body = el("div", "msg-body");
      var pending = el("p", "pending", "Finding an answer…");
      body.appendChild(pending);
      bot.appendChild(body);
      var old = document.getElementById("latest");
      if (old) old.removeAttribute("id");
      bot.id = "latest";
      turns.appendChild(user);
      turns.appendChild(bot);
      q.value = "";
      q.focus();
      keepBoxInView(wasInView);
      stopButton.hidden = false;
      sendButton.disabled = false;

      controller = new AbortController();
      var mine = controller;
      var streamed = "";
      var live = null;
      var finished = false;

      function finish(data) {
        finished = true;
        bot.removeAttribute("aria-busy");
        renderReply(body, data.reply);
        if (data.route === "escalate") bot.classList.add("msg-urgent");
        if (data.sources && data.sources.length) {
          bot.appendChild(el("h4", "sources-heading", "From these pages"));
          var ul = el("ul", "sources");
          data.sources.forEach(function (s) {
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = s.url;
            a.textContent = s.title;
            li.appendChild(a);
            ul.appendChild(li);
          });
          bot.appendChild(ul);
        }
        convInput.value = data.conversation_id || convInput.value;
        // The one announcement for this answer.
        status.textContent = "Answer: " + data.reply.replace(/\s+/g, " ");
        if (readPrefs().speak && "speechSynthesis" in window) {
          window.speechSynthesis.cancel();
          var u = new SpeechSynthesisUtterance(data.reply);
          u.lang = "en-GB";
          window.speechSynthesis.speak(u);
        }
        keepBoxInView(wasInView);
      }

      function handle(event, data) {
        if (event === "delta") {
          if (!live) {
            body.textContent = "";
            live = el("p", null, "");
            body.appendChild(live);
          }
          streamed += data.text;
          live.textContent = streamed;
        } else if (event === "done") {
          finish(data);
        }
      }

      fetch(base + "/api/chat/stream", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept": "text/event-stream" },
        body: JSON.stringify({
          message: question,
          conversation_id: convInput.value || null,
          brief: prefs.short
        }),
        signal: mine.signal
      }).then(function (resp) {
        if (!resp.ok) {
          return resp.json().catch(function () { return {}; }).then(function (err) {
            throw new Error(err.message || "");
          });
        }
        var reader = resp.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done) return;
            buffer += decoder.decode(r.value, { stream: true });
            var blocks = buffer.split("\n\n");
            buffer = blocks.pop();
            blocks.forEach(function (block) {
              var event = "message";
              var data = [];
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event:") === 0) event = line.slice(6).trim();
                else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
              });
              if (data.length) handle(event, JSON.parse(data.join("\n")));
            });
            return pump();
          });
        }
        return pump();
      }).then(function () {
        if (!finished) throw new Error("");
      }).catch(function (err) {
        if (finished) return;
        bot.removeAttribute("aria-busy");
        if (mine.signal.aborted) {
          body.textContent = "";
          body.appendChild(el("p", "pending", streamed ? streamed + " (stopped)" : "Answer stopped."));
          status.textContent = "Answer stopped.";
          return;
        }
        turns.removeChild(bot);
        turns.removeChild(user);
        showError(err.message ||
          "Sorry, we could not get an answer. Please try again, or call " + (form.dataset.help || "the council") + ".", question);
      }).finally(function () {
        if (controller === mine) {
          controller = null;
          stopButton.hidden = true;
        }
      });
    });
  }

  // Speech input: records with Web Audio, makes a 16 kHz WAV in the page
  // (no codec needed), sends it to /api/transcribe and puts the words in the
  // question box to be checked and edited before sending.
  function setupMic() {
    var mic = document.getElementById("mic");
    var q = document.getElementById("q");
    var status = document.getElementById("mic-status");
    var errorBox = document.getElementById("chat-error");
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!mic || mic.dataset.speech !== "on" || !AC ||
        !(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) return;
    mic.hidden = false;
    var rec = null;
    var MAX_SECONDS = 30;

    function wav16k(chunks, rate) {
      var total = chunks.reduce(function (n, c) { return n + c.length; }, 0);
      var input = new Float32Array(total);
      var at = 0;
      chunks.forEach(function (c) { input.set(c, at); at += c.length; });
      var ratio = rate / 16000;
      var n = Math.floor(total / ratio);
      var out = new DataView(new ArrayBuffer(44 + n * 2));
      function str(o, t) { for (var i = 0; i < t.length; i++) out.setUint8(o + i, t.charCodeAt(i)); }
      str(0, "RIFF"); out.setUint32(4, 36 + n * 2, true); str(8, "WAVEfmt ");
      out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true);
      out.setUint32(24, 16000, true); out.setUint32(28, 32000, true);
      out.setUint16(32, 2, true); out.setUint16(34, 16, true);
      str(36, "data"); out.setUint32(40, n * 2, true);
      for (var i = 0; i < n; i++) {
        // Average the samples that fall in this output sample (a simple low-pass).
        var from = Math.floor(i * ratio), to = Math.max(from + 1, Math.floor((i + 1) * ratio));
        var sum = 0;
        for (var k = from; k < to && k < total; k++) sum += input[k];
        var v = Math.max(-1, Math.min(1, sum / (to - from)));
        out.setInt16(44 + i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
      }
      return new Blob([out.buffer], { type: "audio/wav" });
    }

    function stop() {
      if (!rec) return;
      var r = rec;
      rec = null;
      clearTimeout(r.timer);
      r.node.disconnect();
      r.source.disconnect();
      r.stream.getTracks().forEach(function (t) { t.stop(); });
      r.ctx.close();
      mic.setAttribute("aria-pressed", "false");
      mic.textContent = "Speak your question";
      mic.classList.remove("recording");
      status.textContent = "Working out what you said…";
      fetch(base + "/api/transcribe", { method: "POST", headers: { "Content-Type": "audio/wav" }, body: wav16k(r.chunks, r.rate) })
        .then(function (resp) {
          return resp.json().then(function (data) {
            if (!resp.ok) throw new Error(data.message || "");
            return data;
          });
        })
        .then(function (data) {
          if (!data.text) {
            status.textContent = "Sorry, I didn't hear anything. Please try again, or type your question.";
            return;
          }
          q.value = q.value ? q.value.replace(/\s+$/, "") + " " + data.text : data.text;
          q.focus();
          status.textContent = "Your words are in the question box. Check them, change anything that is wrong, then press Send.";
        })
        .catch(function (err) {
          status.textContent = "";
          errorBox.textContent = "";
          var p = document.createElement("p");
          p.className = "error-message";
          p.textContent = err.message || "Sorry, your recording could not be understood. Please type your question instead.";
          errorBox.appendChild(p);
        });
    }

    mic.addEventListener("click", function () {
      if (rec) { stop(); return; }
      errorBox.textContent = "";
      navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } })
        .then(function (stream) {
          var ctx = new AC();
          var source = ctx.createMediaStreamSource(stream);
          var node = ctx.createScriptProcessor(4096, 1, 1);
          var r = { ctx: ctx, stream: stream, source: source, node: node, chunks: [], rate: ctx.sampleRate };
          node.onaudioprocess = function (e) { r.chunks.push(new Float32Array(e.inputBuffer.getChannelData(0))); };
          source.connect(node);
          node.connect(ctx.destination);
          r.timer = setTimeout(stop, MAX_SECONDS * 1000);
          rec = r;
          mic.setAttribute("aria-pressed", "true");
          mic.textContent = "Stop recording";
          mic.classList.add("recording");
          status.textContent = "Listening. Say your question, then press Stop recording.";
        })
        .catch(function () {
          status.textContent = "The microphone could not be used. Check your browser lets this page use it, or type your question.";
        });
    });
  }

  // After a form is sent: focus the error summary, or else the result.
  function setupErrorSummary() {
    var s = document.getElementById("error-summary") || document.getElementById("result");
    if (s) s.focus();
  }

  // In a frame on the council's own site (embed.js): Escape asks the page
  // around to close the chat, and the page asks for focus when it opens.
  function setupFrame() {
    if (window.parent === window) return;
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape") window.parent.postMessage({ signpost: "close" }, "*");
    });
    window.addEventListener("message", function (e) {
      if (e.source !== window.parent || !e.data || e.data.signpost !== "focus") return;
      var q = document.getElementById("q");
      if (q) q.focus();
    });
  }

  function init() {
    setupFrame();
    setupSettings();
    setupChat();
    setupMic();
    setupErrorSummary();
    if (location.search.indexOf("settings=saved") >= 0) {
      var st = document.getElementById("settings-status");
      if (st) st.textContent = "Settings saved on this device.";
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
