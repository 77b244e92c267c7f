"""Reading the command line's arrays and options.

An ARRAY is inline JSON (``"[2, 4, 6]"``), bare numbers (``"2,4,6"`` or ``"2 4 6"``), a ``.npy``
file (loaded with ``allow_pickle=False``), a text file of numbers (``.csv``, ``.txt``, ...:
commas or whitespace between numbers, one row a line, ``#`` comments, an optional header
line), or ``-`` for standard input (any of these forms, ``.npy`` bytes included).

Text has no dtype, so numbers written as integers stay integers for the arrays that hold class
indices or lengths and become floats everywhere else; ``.npy`` files keep their dtype.
"""

from __future__ import annotations

import difflib
import inspect
import io
import json
import math
import os
import sys
import warnings
from typing import Any, BinaryIO

import numpy as np

from .catalog import Entry


class InputError(ValueError):
    """Bad command-line input: printed as one line, exit status 2."""


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_FILE_SUFFIXES = (".npy", ".npz", ".csv", ".tsv", ".txt", ".dat")


def _number(token: str) -> int | float:
    try:
        return int(token)
    except ValueError:
        return float(token)  # accepts 1.5, 1e-3, nan, inf, -inf


def parse_text(text: str, where: str, header: bool = True) -> np.ndarray:
    """Rows of numbers separated by commas or whitespace; in a file, a first row of names is
    a header. NumPy's reader does the work (a million rows in well under a second); input
    it refuses is read again line by line, to say which line is wrong."""
    fast = _loadtxt(text, header)
    if fast is not None:
        return fast
    lines: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split("#", 1)[0].replace(",", " ").replace(";", " ").split()
        if tokens:
            lines.append((number, tokens))
    if header and lines and not any(_is_number(t) for t in lines[0][1]):
        lines = lines[1:]  # a header line: column names
    if not lines:
        raise InputError(f"{where}: no numbers found")
    width = len(lines[0][1])
    for number, tokens in lines:
        if len(tokens) != width:
            raise InputError(f"{where}: line {number} has {len(tokens)} numbers, the first "
                             f"row {width}; every row needs the same count")
    flat = np.array([t for _, tokens in lines for t in tokens])
    try:
        array = flat.astype(np.int64)
    except (ValueError, OverflowError):
        try:
            array = flat.astype(np.float64)  # 1.5, 1e-3, nan, inf, -inf
        except ValueError:
            number, bad = next((n, t) for n, tokens in lines for t in tokens
                               if not _is_number(t))
            raise InputError(f"{where}: line {number} holds {bad!r}, which is not a "
                             f"number") from None
    array = array.reshape(len(lines), width)
    # one row or one column is a vector, as numpy.loadtxt reads it
    return array.reshape(-1) if 1 in array.shape else array


def _loadtxt(text: str, header: bool) -> np.ndarray | None:
    """``parse_text`` by ``numpy.loadtxt`` (integers stay integers), or ``None`` where it
    fails and the careful reader must say why."""
    plain = text
    for separator in ",;":
        if separator in plain:
            plain = plain.replace(separator, " ")
    stream = io.StringIO(plain)
    first: list[str] = []
    for line in stream:  # lazily: the first line that holds something
        first = line.split("#", 1)[0].split()
        if first:
            break
    if not first:
        return None
    if not (header and not any(_is_number(t) for t in first)):
        stream.seek(0)  # no header line: read from the start
    plain = stream.read() if stream.tell() else plain
    for dtype in (np.int64, np.float64):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # an empty body warns; it is refused below
                array = np.loadtxt(io.StringIO(plain), dtype=dtype, comments="#", ndmin=2)
        except (ValueError, OverflowError):
            continue
        if array.size == 0:
            return None
        return array.reshape(-1) if 1 in array.shape else array
    return None


def _is_number(token: str) -> bool:
    try:
        _number(token)
    except ValueError:
        return False
    return True


def _from_json(obj: Any, where: str) -> np.ndarray:
    def check(v: Any) -> None:
        if isinstance(v, list):
            for item in v:
                check(item)
        elif isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"{where}: expected numbers, found {json.dumps(v)}")

    check(obj)
    try:
        return np.array(obj)
    except ValueError:
        raise InputError(f"{where}: the nested lists have different lengths (a ragged array); "
                         f"every row needs the same count") from None


def _from_npy(source: str | BinaryIO, where: str) -> np.ndarray:
    try:
        array = np.load(source, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise InputError(f"{where}: holds Python objects, which losskit never unpickles; "
                             f"save a numeric array") from None
        raise InputError(f"{where}: not a readable .npy file ({exc})") from None
    if isinstance(array, np.lib.npyio.NpzFile):
        raise InputError(f"{where}: an .npz archive; pass one array as a .npy file")
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise InputError(f"{where}: holds {array.dtype} values, not numbers")
    return array


def _from_string(text: str, where: str, header: bool = True) -> np.ndarray:
    stripped = text.strip()
    if len(stripped) < 64 and _is_number(stripped):
        return np.array(_number(stripped))  # one number is a 0-d array, as in JSON
    if stripped.startswith("["):
        try:
            return _from_json(json.loads(stripped), where)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") \
                from None
    return parse_text(text, where, header)


def read_array(arg: str, where: str, stdin: BinaryIO | None = None) -> tuple[np.ndarray, bool]:
    """One ARRAY argument as a NumPy array, and whether it came from text (which has no
    dtype; see ``coerce``) rather than from a .npy file."""
    if arg == "-":
        data = (stdin or sys.stdin.buffer).read()
        if data.startswith(b"\x93NUMPY"):
            return _from_npy(io.BytesIO(data), f"{where} (standard input)"), False
        text = data.decode("utf-8", errors="replace")
        return _from_string(text, f"{where} (standard input)"), True
    if os.path.isfile(arg) or _looks_like_a_path(arg):
        label = f"{where} ({arg})"
        if not os.path.isfile(arg):
            raise InputError(f"{label}: no such file")
        if arg.lower().endswith((".npy", ".npz")):
            return _from_npy(arg, label), False
        try:
            with open(arg, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{label}: cannot be read as text ({exc})") from None
        return _from_string(text, label), True
    try:
        return _from_string(arg, where, header=False), True
    except InputError as exc:
        raise InputError(f"{exc}; an ARRAY is inline JSON like \"[2, 4, 6]\", numbers like "
                         f"\"2,4,6\", a .npy/.csv/.txt file or - for standard input") from None


def _looks_like_a_path(arg: str) -> bool:
    """A file name rather than numbers: a known suffix, a directory separator, or a name
    with an extension (``data.parquet``) that no number spelling has."""
    if arg.lower().endswith(_FILE_SUFFIXES) or os.sep in arg:
        return True
    stem, dot, suffix = arg.rpartition(".")
    return bool(dot and stem and suffix.isalnum() and any(c.isalpha() for c in suffix)
                and not _is_number(arg) and not any(c in arg for c in "[], "))


def coerce(array: np.ndarray, from_text: bool, index: bool, dtype: str | None) -> np.ndarray:
    """Integers written as text become floats except for index/length arrays; ``dtype``
    casts the real-valued arrays."""
    if index:
        return array
    if from_text and np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float64)
    if dtype is not None and np.issubdtype(array.dtype, np.floating):
        array = array.astype(dtype)
    return array


def parse_option(entry: Entry, name: str, text: str, dtype: str | None) -> Any:
    """``--name text`` parsed to the type of the loss's own keyword argument."""
    param = entry.options[name]
    annotation = str(param.annotation)
    where = f"--{name}"
    if annotation.startswith("Callable"):
        raise InputError(f"{where}: a function cannot be given on the command line; the "
                         f"default distance is pairwise_distance (use triplet_margin_loss "
                         f"--p for other p-norms)")
    if annotation.endswith("| None") and text.lower() == "none":
        return None
    if annotation.startswith("Array"):
        return coerce(*read_array(text, where), index=False, dtype=dtype)
    if annotation.startswith("Sequence[int]"):
        try:
            return [int(v) for v in text.strip("[]").replace(",", " ").split()]
        except ValueError:
            raise InputError(f"{where}: expected integers like 4,9,15, got {text!r}") from None
    if annotation.startswith("LinearCrossEntropyOptions"):
        return _chunking(text, where)
    if annotation.startswith("bool"):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise InputError(f"{where}: expected true or false, got {text!r}")
    if annotation.startswith("int"):
        try:
            return int(text)
        except ValueError:
            raise InputError(f"{where}: expected an integer, got {text!r}") from None
    if annotation.startswith("float"):
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{where}: expected a number, got {text!r}") from None
        return int(value) if name == "p" and value.is_integer() and not math.isinf(value) \
            else value
    return text


def _chunking(text: str, where: str) -> Any:
    """``--options batch_chunk_size=64,chunking_method=auto`` as LinearCrossEntropyOptions."""
    from ..losses.head import LinearCrossEntropyOptions

    fields: dict[str, Any] = {}
    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or key not in LinearCrossEntropyOptions.__dataclass_fields__:
            raise InputError(f"{where}: expected NAME=VALUE pairs of "
                             f"{', '.join(LinearCrossEntropyOptions.__dataclass_fields__)}, "
                             f"got {item!r}")
        value = value.strip()
        fields[key] = int(value) if value.isdigit() else \
            (value.lower() == "true" if value.lower() in ("true", "false") else value)
    try:
        return LinearCrossEntropyOptions(**fields)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


def read_pairs(arg: str, where: str, dtype: str | None) -> list[tuple[np.ndarray, np.ndarray]]:
    """An .npz archive of the adaptive softmax's tails, in order: ``np.savez(path, P0, O0,
    P1, O1, ...)`` (one projection and one output matrix per cluster)."""
    label = f"{where} ({arg})"
    if not (arg.lower().endswith(".npz") and os.path.isfile(arg)):
        raise InputError(f"{label}: expected an .npz file holding the tails' arrays in order, "
                         f"as np.savez(path, P0, O0, P1, O1, ...) writes them")
    with np.load(arg, allow_pickle=False) as archive:
        arrays = [coerce(archive[k], False, False, dtype) for k in archive.files]
    if not arrays or len(arrays) % 2:
        raise InputError(f"{label}: holds {len(arrays)} arrays; a tail is two (projection, "
                         f"output), so the count must be even")
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]


def option_name(entry: Entry, flag: str) -> str:
    """``--label-smoothing`` or ``--label_smoothing`` → ``label_smoothing``, or an error that
    suggests the closest names."""
    name = flag.lstrip("-").replace("-", "_")
    if name in entry.options:
        return name
    known = list(entry.options)
    close = difflib.get_close_matches(name, known, n=2, cutoff=0.5)
    hint = f"; did you mean --{' or --'.join(close)}?" if close else ""
    shown = ", ".join(f"--{n}" for n in known if n not in ("size_average", "reduce"))
    raise InputError(f"{entry.name} has no option {flag}{hint} (its options: {shown})")


def split_options(entry: Entry, rest: list[str]) -> tuple[list[str], list[tuple[str, str]]]:
    """Positional ARRAY arguments and ``(name, value)`` option pairs, in order."""
    arrays: list[str] = []
    options: list[tuple[str, str]] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg.startswith("--") and len(arg) > 2:
            flag, eq, value = arg.partition("=")
            name = option_name(entry, flag)
            if not eq:
                if i + 1 >= len(rest):
                    raise InputError(f"{flag} needs a value")
                i += 1
                value = rest[i]
            options.append((name, value))
        else:
            arrays.append(arg)
        i += 1
    return arrays, options


def read_call(entry: Entry, rest: list[str], dtype: str | None = None,
              stdin: BinaryIO | None = None) -> tuple[list[np.ndarray], dict[str, Any]]:
    """The arrays and options of ``losskit eval/explain LOSS ...``."""
    args, pairs = split_options(entry, rest)
    names = entry.arrays
    if len(args) != len(names):
        raise InputError(f"{entry.name} takes {len(names)} arrays ({', '.join(names)}), got "
                         f"{len(args)}")
    if args.count("-") > 1:
        raise InputError("standard input (-) can feed only one array")
    arrays: list[Any] = []
    for name, arg in zip(names, args):
        if name == "tail_weights":  # the adaptive softmax's (projection, output) pairs
            arrays.append(read_pairs(arg, name, dtype))
            continue
        array, from_text = read_array(arg, name, stdin)
        arrays.append(coerce(array, from_text, name in entry.index_arrays, dtype))
    options: dict[str, Any] = {}
    for name, value in pairs:
        if name in options:
            raise InputError(f"--{name} is given twice")
        options[name] = parse_option(entry, name, value, dtype)
    return arrays, options


def signature_line(entry: Entry) -> str:
    """``mse_loss INPUT TARGET [--reduction mean] [--weight None]`` for help texts."""
    opts = " ".join(f"[--{n} {p.default}]" for n, p in entry.options.items()
                    if n not in ("size_average", "reduce")
                    and p.kind is not inspect.Parameter.VAR_KEYWORD)
    return f"{entry.name} {' '.join(a.upper() for a in entry.arrays)} {opts}".strip()
