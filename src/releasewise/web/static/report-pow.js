/* releasewise: solve the misuse-report proof-of-work before the form is sent (no third-party service).
   Find a number n such that SHA-256(challenge + ":" + n) starts with `bits` zero bits; the server
   checks it statelessly. Plain SHA-256 in JavaScript, so it also works outside secure contexts. */
(function () {
  "use strict";
  var K = new Uint32Array([0x428a2f98,0x71374491,0xb5c0fbcf,0xe9b5dba5,0x3956c25b,0x59f111f1,0x923f82a4,0xab1c5ed5,
    0xd807aa98,0x12835b01,0x243185be,0x550c7dc3,0x72be5d74,0x80deb1fe,0x9bdc06a7,0xc19bf174,0xe49b69c1,0xefbe4786,
    0x0fc19dc6,0x240ca1cc,0x2de92c6f,0x4a7484aa,0x5cb0a9dc,0x76f988da,0x983e5152,0xa831c66d,0xb00327c8,0xbf597fc7,
    0xc6e00bf3,0xd5a79147,0x06ca6351,0x14292967,0x27b70a85,0x2e1b2138,0x4d2c6dfc,0x53380d13,0x650a7354,0x766a0abb,
    0x81c2c92e,0x92722c85,0xa2bfe8a1,0xa81a664b,0xc24b8b70,0xc76c51a3,0xd192e819,0xd6990624,0xf40e3585,0x106aa070,
    0x19a4c116,0x1e376c08,0x2748774c,0x34b0bcb5,0x391c0cb3,0x4ed8aa4a,0x5b9cca4f,0x682e6ff3,0x748f82ee,0x78a5636f,
    0x84c87814,0x8cc70208,0x90befffa,0xa4506ceb,0xbef9a3f7,0xc67178f2]);
  var W = new Uint32Array(64);

  function rotr(x, n) { return (x >>> n) | (x << (32 - n)); }

  /* SHA-256 of an ASCII string, as eight 32-bit words. */
  function sha256(msg) {
    var len = msg.length, blocks = (len + 9 + 63) >> 6, words = new Uint32Array(blocks * 16), i, t;
    for (i = 0; i < len; i++) { words[i >> 2] |= (msg.charCodeAt(i) & 0xff) << (24 - (i & 3) * 8); }
    words[len >> 2] |= 0x80 << (24 - (len & 3) * 8);
    words[blocks * 16 - 1] = len * 8;
    var H = new Uint32Array([0x6a09e667,0xbb67ae85,0x3c6ef372,0xa54ff53a,0x510e527f,0x9b05688c,0x1f83d9ab,0x5be0cd19]);
    for (var b = 0; b < blocks; b++) {
      for (t = 0; t < 16; t++) { W[t] = words[b * 16 + t]; }
      for (t = 16; t < 64; t++) {
        var x = W[t - 15], y = W[t - 2];
        W[t] = W[t - 16] + (rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3)) + W[t - 7] + (rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10));
      }
      var a = H[0], c1 = H[1], c = H[2], d = H[3], e = H[4], f = H[5], g = H[6], h = H[7];
      for (t = 0; t < 64; t++) {
        var t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + W[t]) | 0;
        var t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & c1) ^ (a & c) ^ (c1 & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = c1; c1 = a; a = (t1 + t2) | 0;
      }
      H[0] += a; H[1] += c1; H[2] += c; H[3] += d; H[4] += e; H[5] += f; H[6] += g; H[7] += h;
    }
    return H;
  }

  function zeroBits(H) {
    var n = 0;
    for (var i = 0; i < 8; i++) { if (H[i] === 0) { n += 32; } else { return n + Math.clz32(H[i]); } }
    return n;
  }

  function solve(challenge, bits, done) {
    var n = 0;
    (function batch() {
      for (var end = n + 20000; n < end; n++) {
        if (zeroBits(sha256(challenge + ":" + n)) >= bits) { done(String(n)); return; }
      }
      setTimeout(batch, 0);
    })();
  }

  if (typeof module !== "undefined") { module.exports = { sha256: sha256, zeroBits: zeroBits, solve: solve }; return; }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("report-form");
    if (!form) { return; }
    form.addEventListener("submit", function (event) {
      var solution = form.querySelector("input[name=solution]");
      if (solution.value) { return; }
      event.preventDefault();
      var status = document.getElementById("pow-status"), button = form.querySelector("button[type=submit]");
      button.disabled = true;
      status.textContent = "Checking that this browser is not a spam robot (a few seconds)…";
      solve(form.querySelector("input[name=challenge]").value, parseInt(form.dataset.bits, 10), function (answer) {
        solution.value = answer;
        status.textContent = "Sending…";
        form.submit();
      });
    });
  });
})();
