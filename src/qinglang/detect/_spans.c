/*
 * qinglang.detect._spans: Hyperscan's UTF-8 byte offsets to character offsets, in C.
 *
 * Why: Hyperscan reports where a term ends in the UTF-8 bytes it scanned; detection
 * needs character offsets. In Python that is a decode of the prefix per match,
 * which cost more than the scan itself on finance-heavy posts (several matches
 * each). Here one forward walk over the text converts every match of a post, and
 * index_into also decides each match's word boundaries and files it in the post's
 * occurrence index, the rest of TermMatcher.find_into's per-match Python loop.
 * qinglang.detect.matcher keeps the Python conversion where this is not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static Py_ssize_t
utf8_width(Py_UCS4 c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
}

/* Moves the walk (character *ci, byte *bi) to byte offset bend, from the start again
   when bend lies behind it (not expected from Hyperscan); -1 with ValueError when
   bend is not on a character boundary. */
static int
walk_to(int kind, const void *data, Py_ssize_t n, Py_ssize_t bend, Py_ssize_t *ci, Py_ssize_t *bi,
        const char *who)
{
    if (bend < *bi) {
        *ci = 0;
        *bi = 0;
    }
    while (*bi < bend && *ci < n) {
        *bi += utf8_width(PyUnicode_READ(kind, data, *ci));
        (*ci)++;
    }
    if (*bi != bend) {
        PyErr_Format(PyExc_ValueError, "%s: byte offset is not on a character boundary", who);
        return -1;
    }
    return 0;
}

/* char_spans(text, found, lengths) -> [(term id, start, end)] in characters.
   found: list of (term id, byte end) in the order Hyperscan reported them;
   lengths: list of term lengths in characters, indexed by term id. */
static PyObject *
char_spans(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3 || !PyUnicode_Check(args[0]) || !PyList_Check(args[1]) || !PyList_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "char_spans(text: str, found: list, lengths: list)");
        return NULL;
    }
    PyObject *text = args[0], *found = args[1], *lengths = args[2];
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t m = PyList_GET_SIZE(found);
    PyObject *out = PyList_New(m);
    if (out == NULL)
        return NULL;
    Py_ssize_t ci = 0, bi = 0; /* character and byte position of the walk */
    for (Py_ssize_t k = 0; k < m; k++) {
        PyObject *item = PyList_GET_ITEM(found, k);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "char_spans: found holds (term id, byte end) pairs");
            goto fail;
        }
        PyObject *tid = PyTuple_GET_ITEM(item, 0);
        Py_ssize_t tid_i = PyLong_AsSsize_t(tid);
        Py_ssize_t bend = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
        if ((tid_i == -1 || bend == -1) && PyErr_Occurred())
            goto fail;
        if (tid_i < 0 || tid_i >= PyList_GET_SIZE(lengths)) {
            PyErr_SetString(PyExc_IndexError, "char_spans: term id out of range");
            goto fail;
        }
        if (walk_to(kind, data, n, bend, &ci, &bi, "char_spans") < 0)
            goto fail;
        Py_ssize_t len = PyLong_AsSsize_t(PyList_GET_ITEM(lengths, tid_i));
        if (len == -1 && PyErr_Occurred())
            goto fail;
        PyObject *span = Py_BuildValue("(Onn)", tid, ci - len, ci);
        if (span == NULL)
            goto fail;
        PyList_SET_ITEM(out, k, span);
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static int
is_word(Py_UCS4 c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

/* (field, start, end, bounded), built directly: Py_BuildValue parses its format
   string at every call, which cost several times the tuple itself here. */
static PyObject *
occurrence_tuple(PyObject *field, Py_ssize_t start, Py_ssize_t end, int bounded)
{
    PyObject *t = PyTuple_New(4);
    if (t == NULL)
        return NULL;
    PyObject *s = PyLong_FromSsize_t(start);
    PyObject *e = s == NULL ? NULL : PyLong_FromSsize_t(end);
    if (e == NULL) {
        Py_XDECREF(s);
        Py_DECREF(t);
        return NULL;
    }
    PyObject *b = bounded ? Py_True : Py_False;
    Py_INCREF(field);
    Py_INCREF(b);
    PyTuple_SET_ITEM(t, 0, field);
    PyTuple_SET_ITEM(t, 1, s);
    PyTuple_SET_ITEM(t, 2, e);
    PyTuple_SET_ITEM(t, 3, b);
    return t;
}

/* index_into(text, found, lengths, bounds, field, occ) -> prescan mask
   What TermMatcher.find_into does with Hyperscan's matches, in one C walk: each
   (term id, byte end) of found becomes (field, start, end, bounded) in characters,
   appended to occ[term id]. An id k places past the last term (len(lengths) + k,
   k < 64) is no term but a bit of a prescan compiled into the same database
   (TermMatcher.attach_prescan): it sets bit k of the mask returned. bounds[term id] has bit 1 when the term begins with an
   ASCII word character and bit 2 when it ends with one; such an end is "bounded"
   only where the neighbouring character is not a word character. */
static PyObject *
index_into(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 6 || !PyUnicode_Check(args[0]) || !PyList_Check(args[1]) || !PyList_Check(args[2])
        || !PyBytes_Check(args[3]) || !PyDict_Check(args[5])) {
        PyErr_SetString(PyExc_TypeError,
                        "index_into(text: str, found: list, lengths: list, bounds: bytes, field, occ: dict)");
        return NULL;
    }
    PyObject *text = args[0], *found = args[1], *lengths = args[2], *field = args[4], *occ = args[5];
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const unsigned char *bounds = (const unsigned char *)PyBytes_AS_STRING(args[3]);
    Py_ssize_t nbounds = PyBytes_GET_SIZE(args[3]);
    Py_ssize_t m = PyList_GET_SIZE(found);
    Py_ssize_t nterms = PyList_GET_SIZE(lengths);
    unsigned long long mask = 0;
    Py_ssize_t ci = 0, bi = 0;
    for (Py_ssize_t k = 0; k < m; k++) {
        PyObject *item = PyList_GET_ITEM(found, k);
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "index_into: found holds (term id, byte end) pairs");
            return NULL;
        }
        PyObject *tid = PyTuple_GET_ITEM(item, 0);
        Py_ssize_t tid_i = PyLong_AsSsize_t(tid);
        Py_ssize_t bend = PyLong_AsSsize_t(PyTuple_GET_ITEM(item, 1));
        if ((tid_i == -1 || bend == -1) && PyErr_Occurred())
            return NULL;
        if (tid_i >= nterms && tid_i < nterms + 64) {
            mask |= 1ULL << (tid_i - nterms); /* a prescan bit, not a term */
            continue;
        }
        if (tid_i < 0 || tid_i >= nterms || tid_i >= nbounds) {
            PyErr_SetString(PyExc_IndexError, "index_into: term id out of range");
            return NULL;
        }
        if (walk_to(kind, data, n, bend, &ci, &bi, "index_into") < 0)
            return NULL;
        Py_ssize_t len = PyLong_AsSsize_t(PyList_GET_ITEM(lengths, tid_i));
        if (len == -1 && PyErr_Occurred())
            return NULL;
        Py_ssize_t start = ci - len, end = ci;
        if (start < 0) {
            PyErr_SetString(PyExc_ValueError, "index_into: term longer than the text before its end");
            return NULL;
        }
        unsigned char b = bounds[tid_i];
        int bounded = !(((b & 1) && start > 0 && is_word(PyUnicode_READ(kind, data, start - 1)))
                        || ((b & 2) && end < n && is_word(PyUnicode_READ(kind, data, end))));
        PyObject *occurrence = occurrence_tuple(field, start, end, bounded);
        if (occurrence == NULL)
            return NULL;
        PyObject *lst = PyDict_GetItemWithError(occ, tid); /* borrowed */
        int rc;
        if (lst == NULL) {
            if (PyErr_Occurred()) {
                Py_DECREF(occurrence);
                return NULL;
            }
            lst = PyList_New(1);
            if (lst == NULL) {
                Py_DECREF(occurrence);
                return NULL;
            }
            PyList_SET_ITEM(lst, 0, occurrence); /* steals */
            rc = PyDict_SetItem(occ, tid, lst);
            Py_DECREF(lst);
        } else {
            rc = PyList_Append(lst, occurrence);
            Py_DECREF(occurrence);
        }
        if (rc < 0)
            return NULL;
    }
    return PyLong_FromUnsignedLongLong(mask);
}

/* Files the occurrences of term tid (a key of occ) into out; returns -1 on error, else
   the new count (stops at limit). */
static int
take_term(PyObject *occ, PyObject *tid, int word, PyObject *fields, Py_ssize_t limit, PyObject *out,
          Py_ssize_t *count, PyObject *empty)
{
    PyObject *lst = PyDict_GetItemWithError(occ, tid); /* borrowed */
    if (lst == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (!PyList_Check(lst)) {
        PyErr_SetString(PyExc_TypeError, "term_spans: occ values are lists");
        return -1;
    }
    Py_ssize_t m = PyList_GET_SIZE(lst);
    for (Py_ssize_t k = 0; k < m && *count < limit; k++) {
        PyObject *o = PyList_GET_ITEM(lst, k);
        if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 4) {
            PyErr_SetString(PyExc_TypeError, "term_spans: occurrences are (field, start, end, bounded)");
            return -1;
        }
        if (word && PyTuple_GET_ITEM(o, 3) != Py_True)
            continue;
        PyObject *fi = PyTuple_GET_ITEM(o, 0);
        if (fields != Py_None) {
            int in = PySet_Contains(fields, fi);
            if (in < 0)
                return -1;
            if (!in)
                continue;
        }
        if (out != Py_None) {
            PyObject *span = PyTuple_Pack(4, fi, PyTuple_GET_ITEM(o, 1), PyTuple_GET_ITEM(o, 2), empty);
            if (span == NULL)
                return -1;
            int rc = PyList_Append(out, span);
            Py_DECREF(span);
            if (rc < 0)
                return -1;
        }
        (*count)++;
    }
    return 0;
}

/* term_spans(terms, occ, word, fields, limit, out) -> count
   Requirement.spans's term part: the occurrences of the terms of the frozenset terms
   in the post's index occ (term id -> [(field, start, end, bounded)]), terms taken in
   occ's order (first occurrence in the post), each term's occurrences in their order;
   with word only bounded ones, with fields (a frozenset, or None) only in those
   fields. Appends (field, start, end, "") to the list out (None: only count) and
   stops after limit; returns how many it found. */
static PyObject *
term_spans(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 6 || !PyFrozenSet_Check(args[0]) || !PyDict_Check(args[1])
        || !(args[3] == Py_None || PyAnySet_Check(args[3])) || !(args[5] == Py_None || PyList_Check(args[5]))) {
        PyErr_SetString(PyExc_TypeError,
                        "term_spans(terms: frozenset, occ: dict, word: bool, fields: frozenset | None, "
                        "limit: int, out: list | None)");
        return NULL;
    }
    PyObject *terms = args[0], *occ = args[1], *fields = args[3], *out = args[5];
    int word = PyObject_IsTrue(args[2]);
    if (word < 0)
        return NULL;
    Py_ssize_t limit = PyLong_AsSsize_t(args[4]);
    if (limit == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t count = 0;
    Py_ssize_t nterms = PySet_GET_SIZE(terms), nocc = PyDict_GET_SIZE(occ);
    if (nterms == 0 || nocc == 0 || limit <= 0)
        return PyLong_FromSsize_t(0);
    PyObject *empty = PyUnicode_FromStringAndSize("", 0);
    if (empty == NULL)
        return NULL;
    PyObject *only = NULL; /* the one term present, when a short list finds one */
    int walk = 1;
    if (nterms <= 4 && nterms < nocc) {
        /* a short list: look its terms up; with at most one present, order is moot */
        Py_ssize_t present = 0;
        PyObject *it = PyObject_GetIter(terms), *key;
        if (it == NULL)
            goto fail;
        while ((key = PyIter_Next(it)) != NULL) {
            int in = PyDict_Contains(occ, key);
            if (in < 0) {
                Py_DECREF(key);
                Py_DECREF(it);
                goto fail;
            }
            if (in) {
                present++;
                Py_XSETREF(only, key);
            } else
                Py_DECREF(key);
        }
        Py_DECREF(it);
        if (PyErr_Occurred())
            goto fail;
        if (present <= 1) {
            walk = 0;
            if (present == 1 && take_term(occ, only, word, fields, limit, out, &count, empty) < 0)
                goto fail;
        }
    }
    if (walk) {
        Py_ssize_t pos = 0;
        PyObject *key, *value;
        while (count < limit && PyDict_Next(occ, &pos, &key, &value)) {
            int in = PySet_Contains(terms, key);
            if (in < 0)
                goto fail;
            if (in && take_term(occ, key, word, fields, limit, out, &count, empty) < 0)
                goto fail;
        }
    }
    Py_XDECREF(only);
    Py_DECREF(empty);
    return PyLong_FromSsize_t(count);
fail:
    Py_XDECREF(only);
    Py_DECREF(empty);
    return NULL;
}

/* collect(term id, from, to, flags, found): Hyperscan's match handler, appending
   (term id, to) to found. A builtin costs Hyperscan's binding a fraction of a Python
   function call, and a finance-heavy post has several matches. */
static PyObject *
collect(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 5 || !PyList_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "collect(id, from, to, flags, found: list)");
        return NULL;
    }
    PyObject *pair = PyTuple_Pack(2, args[0], args[2]);
    if (pair == NULL)
        return NULL;
    int rc = PyList_Append(args[4], pair);
    Py_DECREF(pair);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"collect", (PyCFunction)(void (*)(void))collect, METH_FASTCALL,
     "collect(id, from, to, flags, found) -> None; appends (id, to) to found"},
    {"char_spans", (PyCFunction)(void (*)(void))char_spans, METH_FASTCALL,
     "char_spans(text, found, lengths) -> [(term id, start, end)] in characters"},
    {"term_spans", (PyCFunction)(void (*)(void))term_spans, METH_FASTCALL,
     "term_spans(terms, occ, word, fields, limit, out) -> count; Requirement.spans's term part"},
    {"index_into", (PyCFunction)(void (*)(void))index_into, METH_FASTCALL,
     "index_into(text, found, lengths, bounds, field, occ) -> prescan mask; find_into's indexing of matches"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_spans", "Hyperscan byte offsets to character offsets (see matcher.py).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__spans(void)
{
    return PyModule_Create(&module_def);
}
