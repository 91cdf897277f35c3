/*
 * qinglang.detect._spans: Hyperscan's UTF-8 byte offsets to character offsets, in C.
 *
 * Why: Hyperscan reports where a term ends in the UTF-8 bytes it scanned; detection
 * needs character offsets. In Python that is a decode of the prefix per match,
 * which cost more than the scan itself on finance-heavy posts (several matches
 * each). Here one forward walk over the text converts every match of a post.
 * qinglang.detect.matcher keeps the Python conversion where this is not built.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static Py_ssize_t
utf8_width(Py_UCS4 c)
{
    return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
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
        if (bend < bi) { /* out of order (not expected from Hyperscan): walk again */
            ci = 0;
            bi = 0;
        }
        while (bi < bend && ci < n) {
            bi += utf8_width(PyUnicode_READ(kind, data, ci));
            ci++;
        }
        if (bi != bend) {
            PyErr_SetString(PyExc_ValueError, "char_spans: byte offset is not on a character boundary");
            goto fail;
        }
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
