/*
 * qinglang.text._prescan: the per-character work of normalization, in C.
 *
 * Why: on a post of ~120 characters the normalizer's Python passes spend most of
 * their time in a handful of `re` guard searches and the fold, each a walk over
 * every character at several nanoseconds a step. This module does the fold (one
 * table lookup per character) and answers every guard in one more walk, so the
 * Python passes run only on the texts that need them.
 *
 * It holds no policy: every table is built in Python (qinglang.text.prescan) from
 * the same data files and character classes the pure-Python path uses, and handed
 * in on each call as read-only bytes. The pure-Python path stays the reference;
 * tests check that both agree on every code point and on random texts.
 *
 * Tables:
 *   fold:    65536 uint32, the folded code point of every BMP code point
 *   classes: 65536 uint16, class bits (CL_*) of every BMP code point
 *   astral:  n pairs of uint32 (key, value), sorted by key: astral folds
 *   han:     n pairs of uint32 (lo, hi), inclusive: astral Han ranges
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* class bits, kept in step with qinglang/text/prescan.py */
#define CL_HAN 0x0001        /* Han ideograph (the HAN class of lexicon.py) */
#define CL_DELE 0x0002       /* deleted anywhere (BMP part of the deletable class) */
#define CL_MULTI 0x0004      /* multi-digit enclosed number (⑩) */
#define CL_SEP 0x0008        /* separator deleted between two Han characters */
#define CL_NUMERAL 0x0010    /* Chinese numeral that becomes a digit in a run */
#define CL_DIGIT 0x0020      /* ASCII digit */
#define CL_SPACER 0x0040     /* separator of spaced-out digits */
#define CL_RW_LEAD 0x0080    /* first character of a contact or pinyin rewrite (not a letter) */
#define CL_RW_LETTER 0x0100  /* ASCII letter that starts a rewrite */
#define CL_LEFT_BAD 0x0200   /* may not precede a letter-led rewrite */
#define CL_NEWLINE 0x0400    /* "\n": `.` does not match it */

/* flag bits returned to Python, kept in step with qinglang/text/prescan.py */
#define F_ASCII 0x001
#define F_HAN 0x002
#define F_STRIP 0x004
#define F_SYMBOL 0x008
#define F_DIGIT 0x010
#define F_SPACED 0x020
#define F_NUMERAL 0x040
#define F_REPEAT 0x080
#define F_REWRITE 0x100
#define F_REPEAT_HAN 0x200

#define ASTRAL_CLASS 0x8000 /* internal: any code point above the BMP */

/* the per-character steps: inlined into each walk, where the state stays in registers */
#if defined(__GNUC__) || defined(__clang__)
#define STEP static inline __attribute__((always_inline))
#else
#define STEP static inline
#endif

typedef struct {
    const uint32_t *fold;
    const uint16_t *classes;
    const uint32_t *astral;
    Py_ssize_t n_astral;
    const uint32_t *han;
    Py_ssize_t n_han;
} Tables;

static int
get_tables(PyObject *const *args, Tables *t)
{
    for (int i = 0; i < 4; i++) {
        if (!PyBytes_Check(args[i])) {
            PyErr_SetString(PyExc_TypeError, "prescan tables must be bytes");
            return -1;
        }
    }
    if (PyBytes_GET_SIZE(args[0]) != 65536 * 4 || PyBytes_GET_SIZE(args[1]) != 65536 * 2
        || PyBytes_GET_SIZE(args[2]) % 8 || PyBytes_GET_SIZE(args[3]) % 8) {
        PyErr_SetString(PyExc_ValueError, "prescan tables have the wrong size");
        return -1;
    }
    t->fold = (const uint32_t *)PyBytes_AS_STRING(args[0]);
    t->classes = (const uint16_t *)PyBytes_AS_STRING(args[1]);
    t->astral = (const uint32_t *)PyBytes_AS_STRING(args[2]);
    t->n_astral = PyBytes_GET_SIZE(args[2]) / 8;
    t->han = (const uint32_t *)PyBytes_AS_STRING(args[3]);
    t->n_han = PyBytes_GET_SIZE(args[3]) / 8;
    return 0;
}

static uint32_t
fold_astral(const Tables *t, uint32_t c)
{
    Py_ssize_t lo = 0, hi = t->n_astral - 1;
    while (lo <= hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        uint32_t key = t->astral[2 * mid];
        if (key == c)
            return t->astral[2 * mid + 1];
        if (key < c)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return c;
}

STEP unsigned
class_of(const Tables *t, uint32_t c)
{
    if (c < 65536)
        return t->classes[c];
    for (Py_ssize_t k = 0; k < t->n_han; k++) {
        if (t->han[2 * k] <= c && c <= t->han[2 * k + 1])
            return ASTRAL_CLASS | CL_HAN;
    }
    return ASTRAL_CLASS;
}

/* The guards' walk, one character at a time (see prescan.py for the regexes). */
typedef struct {
    unsigned flags;
    unsigned prev;      /* class of the previous character */
    uint32_t c1, c2;    /* the two previous characters (for repeats) */
    int dg, sp;         /* states of the digit and spaced-digit guards */
} Guards;

static inline void
guards_init(Guards *g)
{
    g->flags = F_ASCII;
    g->prev = 0;
    g->c1 = g->c2 = 0;
    g->dg = g->sp = 0;
}

/* Character c at index i. */
STEP void
guards_step(const Tables *t, Guards *g, uint32_t c, Py_ssize_t i)
{
    unsigned cl = class_of(t, c);
    unsigned prev = g->prev;
    unsigned flags = g->flags;
    if (c >= 128)
        flags &= ~F_ASCII;
    if (cl & CL_HAN)
        flags |= F_HAN;
    /* strip: a lead character (deletable, multi-digit, separator or astral) that
       is not a separator itself or follows a Han character */
    if (cl & (CL_DELE | CL_MULTI | CL_SEP | ASTRAL_CLASS)) {
        if (!(cl & CL_SEP) || (i > 0 && (prev & CL_HAN)))
            flags |= F_STRIP;
        if (cl & (CL_DELE | CL_MULTI | ASTRAL_CLASS))
            flags |= F_SYMBOL;
    }
    /* numeral: two numeral-or-digit characters in a row, one of them a numeral */
    if (i > 0 && (prev & (CL_NUMERAL | CL_DIGIT)) && (cl & (CL_NUMERAL | CL_DIGIT))
        && ((prev | cl) & CL_NUMERAL))
        flags |= F_NUMERAL;
    /* digit guard `[N0-9](?:[N0-9]|[SP]+[0-9])`: dg 1 = the previous character is a
       numeral or digit, 2 = inside spacers that follow one */
    int dg = g->dg;
    if ((dg == 1 && (cl & (CL_NUMERAL | CL_DIGIT))) || (dg == 2 && (cl & CL_DIGIT)))
        flags |= F_DIGIT;
    if (cl & (CL_NUMERAL | CL_DIGIT))
        dg = 1;
    else if ((cl & CL_SPACER) && dg)
        dg = 2;
    else
        dg = 0;
    g->dg = dg;
    /* spaced guard `[0-9][SP]+[0-9](?![0-9])[SP]`: sp 1 = after a digit, 2 = inside
       spacers after a digit, 3 = after a digit that ended such spacers */
    int sp = g->sp;
    if (sp == 3 && (cl & CL_SPACER))
        flags |= F_SPACED;
    if (cl & CL_DIGIT)
        sp = (sp == 2) ? 3 : 1;
    else if ((cl & CL_SPACER) && sp)
        sp = 2;
    else
        sp = 0;
    g->sp = sp;
    /* repeat: the same character three times, not a newline */
    if (i >= 2 && c == g->c1 && c == g->c2 && !(cl & CL_NEWLINE)) {
        flags |= F_REPEAT;
        if ((cl & CL_HAN) && !(cl & CL_NUMERAL))
            flags |= F_REPEAT_HAN;
    }
    /* rewrite: a rewrite's first character; a letter only after a boundary */
    if ((cl & CL_RW_LEAD) || ((cl & CL_RW_LETTER) && (i == 0 || !(prev & CL_LEFT_BAD))))
        flags |= F_REWRITE;
    g->c2 = g->c1;
    g->c1 = c;
    g->prev = cl;
    g->flags = flags;
}

/* Every guard of the normalizer over one text, in a walk per storage kind (the
   kind test then sits outside the loop). */
static unsigned
guard_flags(const Tables *t, int kind, const void *data, Py_ssize_t n)
{
    Guards g;
    guards_init(&g);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = data;
        for (Py_ssize_t i = 0; i < n; i++)
            guards_step(t, &g, d[i], i);
    }
    else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = data;
        for (Py_ssize_t i = 0; i < n; i++)
            guards_step(t, &g, d[i], i);
    }
    else {
        const Py_UCS4 *d = data;
        for (Py_ssize_t i = 0; i < n; i++)
            guards_step(t, &g, d[i], i);
    }
    return g.flags;
}

/* The fold of every character into buf and the guards of the folded text, in one
   walk (the guards read each folded character as it is made); returns whether any
   character changed. */
#define FOLD_WALK(TYPE)                                                      \
    do {                                                                     \
        const TYPE *d = data;                                                \
        for (Py_ssize_t i = 0; i < n; i++) {                                 \
            uint32_t c = d[i];                                               \
            uint32_t f = c < 65536 ? t->fold[c] : fold_astral(t, c);         \
            changed |= (f != c);                                             \
            buf[i] = f;                                                      \
            guards_step(t, g, f, i);                                         \
        }                                                                    \
    } while (0)

static int
fold_and_guard(const Tables *t, int kind, const void *data, Py_ssize_t n, uint32_t *buf, Guards *g)
{
    int changed = 0;
    if (kind == PyUnicode_1BYTE_KIND)
        FOLD_WALK(Py_UCS1);
    else if (kind == PyUnicode_2BYTE_KIND)
        FOLD_WALK(Py_UCS2);
    else
        FOLD_WALK(Py_UCS4);
    return changed;
}

/* prescan(fold, classes, astral, han, text) -> (folded text, guard flags of it)
   (tables first, so Python binds them once with functools.partial) */
static PyObject *
prescan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    Tables t;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "prescan(fold, classes, astral, han, text)");
        return NULL;
    }
    PyObject *s = args[4];
    if (!PyUnicode_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "prescan: text must be str");
        return NULL;
    }
    if (get_tables(args, &t) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    uint32_t small[512];
    uint32_t *buf = n <= 512 ? small : PyMem_Malloc(sizeof(uint32_t) * (size_t)n);
    if (buf == NULL)
        return PyErr_NoMemory();
    Guards g;
    guards_init(&g);
    int changed = fold_and_guard(&t, PyUnicode_KIND(s), PyUnicode_DATA(s), n, buf, &g);
    PyObject *folded;
    if (changed) {
        folded = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n);
    }
    else {
        Py_INCREF(s);
        folded = s;
    }
    if (buf != small)
        PyMem_Free(buf);
    if (folded == NULL)
        return NULL;
    /* built directly: Py_BuildValue parses its format string at every call */
    PyObject *fl = PyLong_FromUnsignedLong(g.flags);
    PyObject *out = fl == NULL ? NULL : PyTuple_New(2);
    if (out == NULL) {
        Py_XDECREF(fl);
        Py_DECREF(folded);
        return NULL;
    }
    PyTuple_SET_ITEM(out, 0, folded);
    PyTuple_SET_ITEM(out, 1, fl);
    return out;
}

/* guards(fold, classes, astral, han, text) -> guard flags of text as it is */
static PyObject *
guards(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    Tables t;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "guards(fold, classes, astral, han, text)");
        return NULL;
    }
    PyObject *s = args[4];
    if (!PyUnicode_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "guards: text must be str");
        return NULL;
    }
    if (get_tables(args, &t) < 0)
        return NULL;
    unsigned flags = guard_flags(&t, PyUnicode_KIND(s), PyUnicode_DATA(s), PyUnicode_GET_LENGTH(s));
    return PyLong_FromUnsignedLong(flags);
}

static PyMethodDef methods[] = {
    {"prescan", (PyCFunction)(void (*)(void))prescan, METH_FASTCALL,
     "prescan(fold, classes, astral, han, text) -> (folded, flags)"},
    {"guards", (PyCFunction)(void (*)(void))guards, METH_FASTCALL,
     "guards(fold, classes, astral, han, text) -> flags"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_prescan", "Fold and normalization guards in one pass (see prescan.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__prescan(void)
{
    return PyModule_Create(&module_def);
}
