# Byte movement and the conv multiply-accumulate of the cpu INT8 set.  orcc
# compiles these at build time (SIMD where ORC has a target, its backup C
# otherwise); each is exact by construction, so tests compare them with
# plain C loops (the conv: with ref).

# d[2x + j] = s_j[x]: one row of a 2×2 depth-to-space
.function cfqp_orc_interleave2_u8
.dest 2 d1 guint8
.source 1 s1 guint8
.source 1 s2 guint8
mergebw d1, s1, s2

# d[4x + j] = s_j[x]: 4×4 depth-to-space rows, and planar → 4-byte pixels
.function cfqp_orc_interleave4_u8
.dest 4 d1 guint8
.source 1 s1 guint8
.source 1 s2 guint8
.source 1 s3 guint8
.source 1 s4 guint8
.temp 2 t1
.temp 2 t2
mergebw t1, s1, s2
mergebw t2, s3, s4
mergewl d1, t1, t2

# d[x] = byte (shift / 8) of the little-endian s[x]: one plane of 4-byte
# pixels.  (A single 4-destination splitlw/splitwb version crashes ORC
# 0.4.33's SSE code on this machine, hence one plane per call.)
.function cfqp_orc_extract_u8_from_u32
.dest 1 d1 guint8
.source 4 s1 guint8
.param 4 shift
.temp 4 t1
.temp 2 t2
shrul t1, s1, shift
convlw t2, t1
convwb d1, t2

# d[2x] = d[2x + 1] = s[x]: a row of a nearest ×2 horizontal upscale
.function cfqp_orc_dup2_u8
.dest 2 d1 guint8
.source 1 s1 guint8
splatbw d1, s1

# a row copy (tile, nearest upscale rows)
.function cfqp_orc_copy_u8
.dest 1 d1 guint8
.source 1 s1 guint8
copyb d1, s1

# d[x] += Σ_j w_j·s_j[x]: the ORC conv's multiply-accumulate, 4 taps of
# one output channel over a row of pixels (u8 activations, s8 weights in
# 16-bit params).  u8·s8 fits int16 (|255·128| < 2^15), sums are int32:
# exact in any order, so the conv stays ref's accumulator.  Four taps per
# call, not eight: with nine arrays ORC 0.4.33's x86-64 backend needs r12,
# and its prologue pushes %rsp instead (a REX-less encoding), so r12 — a
# callee-saved register — came back clobbered (found by the ASan build).
.function cfqp_orc_mac4_u8s8
.dest 4 d1 gint32
.source 1 s1 guint8
.source 1 s2 guint8
.source 1 s3 guint8
.source 1 s4 guint8
.param 2 w1
.param 2 w2
.param 2 w3
.param 2 w4
.temp 2 t
.temp 4 p
.temp 4 sum
convubw t, s1
mullw t, t, w1
convswl sum, t
convubw t, s2
mullw t, t, w2
convswl p, t
addl sum, sum, p
convubw t, s3
mullw t, t, w3
convswl p, t
addl sum, sum, p
convubw t, s4
mullw t, t, w4
convswl p, t
addl sum, sum, p
addl d1, d1, sum

# --- INT8 elementwise requantisation (add/sub, concat) ----------------------
# ref's term rshift_round((q − z)·m, s) (int64 product, half away from
# zero) in 32-bit lanes, exactly: with M = |m| = mh·2^23 + ml (m's sign in
# d = ±(q − z)) and s = 23 + j,
#   rshift_round(d·M, s) = (d·mh + 2^(j−1) + ((d·ml − [d<0]) >> 23)) >> j
# (floors nest; s ≤ 24 is brought to j = 1 by scaling M's low part, see
# cfqp-int8-cpu-lut.c, which checks at pack time that every intermediate
# fits 32 bits and otherwise keeps its tables).

# d[x] = term of s[x] with j = 1: the first input of an add/sub, int32
# in 2^20 units of the output scale
.function cfqp_orc_rq_term_u8
.dest 4 d1 gint32
.source 1 s1 guint8
.param 2 z
.param 4 mh
.param 4 ml
.temp 2 w
.temp 2 mw
.temp 4 dl
.temp 4 mk
.temp 4 lo
.temp 4 hi
convubw w, s1
subw w, w, z
shrsw mw, w, 15
convswl dl, w
convswl mk, mw
mulll lo, dl, ml
addl lo, lo, mk
shrsl lo, lo, 23
mulll hi, dl, mh
addl hi, hi, lo
addl hi, hi, 1
shrsl d1, hi, 1

# d[x] = clamp(zo + rshift_round(t[x] + term(sign·(s[x] − z)) + off, 20),
# lo, hi): an add/sub's output, t from cfqp_orc_rq_term_u8
.function cfqp_orc_add_rq_u8
.dest 1 d1 guint8
.source 4 t1 gint32
.source 1 s1 guint8
.param 2 z
.param 2 sign
.param 4 mh
.param 4 ml
.param 4 off
.param 2 zo
.param 2 lo
.param 2 hi
.temp 2 w
.temp 2 mw
.temp 4 dl
.temp 4 mk
.temp 4 l
.temp 4 h
convubw w, s1
subw w, w, z
mullw w, w, sign
shrsw mw, w, 15
convswl dl, w
convswl mk, mw
mulll l, dl, ml
addl l, l, mk
shrsl l, l, 23
mulll h, dl, mh
addl h, h, l
addl h, h, 1
shrsl h, h, 1
addl h, h, t1
addl h, h, off
shrsl mk, h, 31
addl h, h, 524288
addl h, h, mk
shrsl h, h, 20
convlw w, h
addw w, w, zo
maxsw w, w, lo
minsw w, w, hi
convwb d1, w

# d[x] = clamp(zo + rshift_round((s[x] − z)·m, s), lo, hi): concat and
# standalone-activation rescale with one multiplier for both signs, any
# j ≥ 1 (hj = 2^(j−1)); the term saturates to 16 bits before the clamp
.function cfqp_orc_rescale_u8
.dest 1 d1 guint8
.source 1 s1 guint8
.param 2 z
.param 4 mh
.param 4 ml
.param 4 hj
.param 4 j
.param 2 zo
.param 2 lo
.param 2 hi
.temp 2 w
.temp 2 mw
.temp 4 dl
.temp 4 mk
.temp 4 l
.temp 4 h
convubw w, s1
subw w, w, z
shrsw mw, w, 15
convswl dl, w
convswl mk, mw
mulll l, dl, ml
addl l, l, mk
shrsl l, l, 23
mulll h, dl, mh
addl h, h, hj
addl h, h, l
shrsl h, h, j
convssslw w, h
addssw w, w, zo
maxsw w, w, lo
minsw w, w, hi
convwb d1, w
