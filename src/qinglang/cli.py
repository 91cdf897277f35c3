"""The ``qinglang`` command: scan files, explain one text, evaluate, show versions.

The command line is a thin front over the same pieces every other front uses
(readers, :func:`qinglang.scan.scan_records`, ``Engine.detect``, the renderers);
it adds only what a person at a terminal needs: progress, a summary, exit statuses
that scripts can trust, and errors as ``error QL-xxxx: message`` without tracebacks.

Exit statuses (docs/cli.md): 0 every record produced a verdict; 1 some record
failed (the output holds an error record for it); 2 usage error (bad option,
unreadable or unsupported input, bad policy pack). Output data goes to stdout only
when ``-o -`` asks for it; everything meant for people goes to stderr then.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer

from qinglang import __version__, errors
from qinglang.commands import accounts as accounts_commands
from qinglang.commands import appeal as appeal_commands
from qinglang.commands import audit as audit_commands
from qinglang.commands import cluster as cluster_commands
from qinglang.commands import keys as keys_commands
from qinglang.commands import registry as registry_commands
from qinglang.commands import review as review_commands
from qinglang.commands import serve as serve_commands
from qinglang.commands.common import (
    EXIT_OK,
    EXIT_RECORD_ERRORS,
    fail,
    reported,
    stdout_gone,
)
from qinglang.errors import QLError
from qinglang.io.records import DEFAULT_MAX_TEXT_CHARS

if TYPE_CHECKING:
    from qinglang.detect.engine import Engine

#: refresh the progress bar every this many records (updates cost microseconds each)
PROGRESS_EVERY = 512

app = typer.Typer(
    name="qinglang",
    help="Find illegal financial activity in social-media posts and explain every verdict.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


class InputFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


PackOption = Annotated[
    list[str] | None,
    typer.Option(
        "--pack",
        help="Policy pack file (repeatable). Default: the bundled packs.",
        show_default=False,
    ),
]


ModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        help="Learned model combined with the rules: 'default' (the bundled one), a model directory, "
        "or 'none' for the rules alone.",
    ),
]

ModeOption = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="With --model: 'combined' (default), or 'model' to score with the model alone (for comparison).",
        show_default=False,
    ),
]


def make_engine(packs: list[str] | None = None, model: str | None = "default", mode: str | None = None) -> Engine:
    """Build the engine (tests replace this with a fake); ``model`` "none" means the rules alone."""
    from qinglang.detect.engine import Engine

    return Engine.from_options(packs or None, model=None if model in (None, "none") else model, mode=mode)


# --- command groups (one module each under qinglang/commands) --------------------------

app.add_typer(audit_commands.app, name="audit")
app.add_typer(keys_commands.app, name="keys")
app.command("serve")(serve_commands.serve)
app.add_typer(review_commands.app, name="review")
app.add_typer(appeal_commands.app, name="appeal")
app.add_typer(registry_commands.app, name="registry")
app.add_typer(accounts_commands.app, name="accounts")
app.add_typer(cluster_commands.app, name="cluster")


def main() -> None:
    """Console-script entry point."""
    app()


# --- scan ---------------------------------------------------------------------------


@app.command()
def scan(
    input: Annotated[
        str | None,
        typer.Argument(
            help="Posts to scan: .jsonl/.ndjson/.json, .csv or .parquet (optionally .gz); "
            "- reads JSON Lines from stdin.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="Where to write one result per record: .jsonl, .csv, .parquet, or - for stdout.",
        ),
    ] = "-",
    pack: PackOption = None,
    model: ModelOption = "default",
    mode: ModeOption = None,
    fmt: Annotated[
        InputFormat | None,
        typer.Option("--format", help="Input format, when the name does not tell (stdin).",
                     show_default=False),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Posts per engine call.")
    ] = 1024,
    max_text_chars: Annotated[
        int,
        typer.Option("--max-text-chars", min=1,
                     help="Longest text field accepted, in characters; longer ones fail (QL-1006)."),
    ] = DEFAULT_MAX_TEXT_CHARS,
    sample: Annotated[
        bool, typer.Option("--sample", help="Scan the bundled sample posts instead of INPUT.")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")
    ] = False,
) -> None:
    """Scan posts and write one verdict (or error record) per input record."""
    from qinglang.io.readers import read_records
    from qinglang.io.writers import open_writer
    from qinglang.scan import ScanStats, scan_records, tune_gc_for_batch

    if sample and input is not None:
        fail(errors.BAD_OPTION, "give either INPUT or --sample, not both")
    if not sample and input is None:
        fail(errors.BAD_OPTION, "missing INPUT (a file, or - for stdin); or use --sample")

    with ExitStack() as stack, reported():
        if sample:
            source: str = str(stack.enter_context(resources.as_file(_sample_posts())))
            if not Path(source).is_file():
                raise QLError(errors.FILE_NOT_FOUND, "the bundled sample posts are missing")
        else:
            assert input is not None
            source = input
        records = read_records(source, fmt=fmt.value if fmt else None)
        engine = make_engine(pack, model=model, mode=mode)
        tune_gc_for_batch()
        _refuse_overwrite(source, output)
        writer = open_writer(output)
        stats = ScanStats()
        try:
            with writer, _progress(quiet, stats) as tick:
                for i, out in enumerate(
                    scan_records(
                        engine, records, batch_size, max_text_chars=max_text_chars, stats=stats
                    ),
                    1,
                ):
                    writer.write(out)
                    if tick is not None and i % PROGRESS_EVERY == 0:
                        tick()
        except BrokenPipeError:
            stdout_gone()
        stats.finish()
    if not quiet:
        _print_summary(stats, engine, to_stderr=output == "-")
    raise typer.Exit(EXIT_RECORD_ERRORS if stats.error_count else EXIT_OK)


def _sample_posts() -> Any:
    return resources.files("qinglang.samples").joinpath("posts.jsonl")


def _refuse_overwrite(source: str, output: str) -> None:
    """Writing the results over the input would destroy it before it is read."""
    if source == "-" or output == "-":
        return
    try:
        same = Path(source).resolve() == Path(output).resolve()
    except OSError:
        return
    if same:
        raise QLError(errors.BAD_OPTION, f"output {output} is the input file; choose another -o")


@contextmanager
def _progress(quiet: bool, stats: Any) -> Iterator[Any]:
    """A live progress line on stderr, only when stderr is a terminal."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.fields[line]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("scan", total=None, line="starting")

        def tick() -> None:
            rate = stats.records / stats.elapsed if stats.elapsed > 0 else 0.0
            progress.update(
                task,
                line=f"{stats.records:,} records, {stats.flagged:,} flagged, "
                f"{stats.error_count:,} errors ({rate:,.0f}/s)",
            )

        yield tick


def _print_summary(stats: Any, engine: Any, *, to_stderr: bool) -> None:
    from rich.console import Console

    from qinglang.render.summary import summary_renderable

    console = Console(stderr=to_stderr)
    console.print(summary_renderable(stats, engine.taxonomy))


# --- ingest -------------------------------------------------------------------------


@app.command()
def ingest(
    input: Annotated[
        str,
        typer.Argument(
            help="Posts to ingest: .jsonl/.ndjson/.json, .csv or .parquet (optionally .gz); "
            "- reads JSON Lines from stdin.",
            show_default=False,
        ),
    ],
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL. Default: QINGLANG_DB_URL, else the SQLite file in the "
                     "user data directory (docs/store.md).", show_default=False),
    ] = None,
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant the posts belong to.")] = "default",
    output: Annotated[
        str,
        typer.Option(
            "-o",
            "--output",
            help="Where to write one result per record: .jsonl, .csv, .parquet, or - for stdout.",
        ),
    ] = "-",
    pack: PackOption = None,
    model: ModelOption = "default",
    mode: ModeOption = None,
    fmt: Annotated[
        InputFormat | None,
        typer.Option("--format", help="Input format, when the name does not tell (stdin).",
                     show_default=False),
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Posts per engine call and per database transaction.")
    ] = 1024,
    max_text_chars: Annotated[
        int,
        typer.Option("--max-text-chars", min=1,
                     help="Longest text field accepted, in characters; longer ones fail (QL-1006)."),
    ] = DEFAULT_MAX_TEXT_CHARS,
    registry_file: Annotated[
        str | None,
        typer.Option("--registry", help="Import this licence registry CSV first (as 'registry import' does), then "
                     "decide with the registry. Default: the stored registry, when it holds entries.",
                     show_default=False),
    ] = None,
    no_registry: Annotated[
        bool, typer.Option("--no-registry", help="Decide without the licence registry (no licence checks).")
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No summary.")
    ] = False,
) -> None:
    """Scan, store and decide: posts, verdicts, strikes, actions and cases, idempotently."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import SQLAlchemyError

    from qinglang.decide import default_ladder
    from qinglang.ingest import IngestStats, ingest_records
    from qinglang.io.readers import read_records
    from qinglang.io.writers import open_writer
    from qinglang.scan import tune_gc_for_batch
    from qinglang.store.db import make_engine as make_db_engine
    from qinglang.store.db import session_factory, upgrade

    stats = IngestStats()
    with reported():
        records = read_records(input, fmt=fmt.value if fmt else None)
        if registry_file is not None and no_registry:
            fail(errors.BAD_OPTION, "--registry and --no-registry do not go together")
        db_engine = make_db_engine(db)
        upgrade(db_engine)
        registry = None if no_registry else registry_commands.registry_for_ingest(
            db_engine, registry_file, quiet=quiet)
        policy = default_ladder()
        engine = make_engine(pack, model=model, mode=mode)
        tune_gc_for_batch()
        _refuse_overwrite(input, output)
        writer = open_writer(output)
        try:
            with writer:
                for out in ingest_records(engine, records, session_factory(db_engine), tenant=tenant,
                                          now=datetime.now(UTC), policy=policy,
                                          registry=registry.registry if registry else None, batch_size=batch_size,
                                          max_text_chars=max_text_chars, stats=stats):
                    writer.write(out)
        except BrokenPipeError:
            stdout_gone()
        except SQLAlchemyError as exc:
            raise QLError(errors.DB_UNAVAILABLE, f"database error while ingesting: {exc}") from None
        finally:
            db_engine.dispose()
        stats.scan.finish()
    if not quiet:
        _print_ingest_summary(stats, to_stderr=output == "-")
    bad_registry_rows = registry is not None and not registry.ok
    raise typer.Exit(EXIT_RECORD_ERRORS if stats.scan.error_count or bad_registry_rows else EXIT_OK)


def _print_ingest_summary(stats: Any, *, to_stderr: bool) -> None:
    d = stats.to_dict()

    def counts(c: dict[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in c.items()) or "none"

    lines = [
        f"records   {d['records']:,} ({d['verdicts']:,} verdicts, {d['errors']:,} errors)",
        f"posts     new {d['posts']['new']:,}, unchanged {d['posts']['unchanged']:,}, "
        f"new versions {d['posts']['new_version']:,}",
        f"verdicts  {d['verdicts_created']:,} stored",
        f"strikes   {d['strikes']:,}",
        f"actions   {counts(d['actions'])}",
        f"cases     {d['cases_opened']:,} opened ({counts(d['cases'])})",
    ]
    if d["expired"]:
        lines.append(f"expired   {d['expired']:,} actions")
    if d["errors_by_code"]:
        lines.append(f"errors    {counts(d['errors_by_code'])}")
    typer.echo("\n".join(lines), err=to_stderr)


# --- explain ------------------------------------------------------------------------


@app.command()
def explain(
    text: Annotated[str, typer.Argument(help="The text to examine; - reads it from stdin.")],
    pack: PackOption = None,
    model: ModelOption = "default",
    mode: ModeOption = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the verdict as JSON (docs/verdict-schema.md).")
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of the text (e.g. zh), for language-specific rules.",
                     show_default=False),
    ] = None,
) -> None:
    """Detect one text and show why: categories, rules, evidence spans, entities."""
    from qinglang.io.records import post_from_mapping

    if text == "-":
        text = _read_stdin_text()
    with reported(EXIT_RECORD_ERRORS):
        post = post_from_mapping({"id": "-", "text": text, "lang": lang}, 1)
    with reported():
        engine = make_engine(pack, model=model, mode=mode)
    with reported(EXIT_RECORD_ERRORS):
        verdict = engine.detect([post])[0]
    if as_json:
        sys.stdout.buffer.write(
            orjson.dumps(verdict.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        )
        sys.stdout.flush()
        return
    _print_explanation(verdict, dict(post.fields()), engine)


def _read_stdin_text() -> str:
    data = sys.stdin.buffer.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        fail(errors.INVALID_UTF8, f"stdin: invalid UTF-8 byte at byte {exc.start}",
              EXIT_RECORD_ERRORS)
    # `echo ... |` adds one newline the author did not write
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def _print_explanation(verdict: Any, fields: dict[str, str], engine: Any) -> None:
    from rich.console import Console

    from qinglang.render.explain import build_explanation, explain_text

    titles = {code: info.title for code, info in engine.taxonomy.items()}
    console = Console()
    if console.is_terminal:
        console.print(build_explanation(verdict, fields, titles=titles))
    else:
        sys.stdout.write(explain_text(verdict, fields, titles=titles))
        sys.stdout.flush()


# --- eval and train -----------------------------------------------------------------


@app.command("eval")
def eval_(
    labeled: Annotated[
        str, typer.Argument(help="Labeled posts (.jsonl, .csv or .parquet).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    pack: PackOption = None,
    model: ModelOption = "default",
    mode: ModeOption = None,
    label_map: Annotated[
        str | None,
        typer.Option("--label-map", help="YAML map from dataset labels to category codes.",
                     show_default=False),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", min=1, help="Stop after this many records.", show_default=False),
    ] = None,
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option("--compare", metavar="A B", show_default=False,
                     help="Compare two configurations (inline spec such as rules, model=default, "
                     "packs=a.yaml+b.yaml, or a YAML file) on the same rows: metrics side by side and the "
                     "posts that flip (docs/evaluation.md)."),
    ] = None,
    flips: Annotated[
        int | None,
        typer.Option("--flips", min=0, show_default=False,
                     help="With --compare: how many flipped posts to list (default 20, or 50 with --json)."),
    ] = None,
    attack: Annotated[
        str | None,
        typer.Option("--attack", metavar="all|NAME,...", show_default=False,
                     help="Recall of the positives under evasion transforms ('all', or names such as "
                     "traditional,pinyin), each next to clean recall (docs/evaluation.md, Attacks)."),
    ] = None,
) -> None:
    """Measure the engine on a labeled file: precision, recall, F1 per category."""
    if attack is not None:
        if compare is not None or flips is not None:
            fail(errors.BAD_OPTION, "--attack does not go with --compare or --flips")
        _eval_attack(labeled, attack, as_json=as_json, pack=pack, model=model, mode=mode,
                     label_map=label_map, limit=limit)
        return
    if compare is not None:
        _eval_compare(labeled, compare, flips=flips, as_json=as_json, label_map=label_map, limit=limit,
                      conflicting=bool(pack or mode or model != "default"))
        return
    if flips is not None:
        fail(errors.BAD_OPTION, "--flips goes with --compare")
    try:
        from qinglang.eval.report import render_text
        from qinglang.eval.run import evaluate
        from qinglang.scan import tune_gc_for_batch
    except ImportError as exc:
        fail(errors.BAD_OPTION, f"evaluation is not available in this installation ({exc})")
    with reported():
        engine = make_engine(pack, model=model, mode=mode)
        tune_gc_for_batch()
        report = evaluate(engine, labeled, label_map=label_map, limit=limit)
    if as_json:
        sys.stdout.buffer.write(
            orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        )
        sys.stdout.flush()
        return
    rendered = render_text(report)
    sys.stdout.write(rendered if rendered.endswith("\n") else rendered + "\n")
    sys.stdout.flush()


def _eval_attack(labeled: str, spec: str, *, as_json: bool, pack: list[str] | None, model: str | None,
                 mode: str | None, label_map: str | None, limit: int | None) -> None:
    """``eval --attack``: recall of the positives clean and under each evasion transform."""
    from qinglang.eval.attack import evaluate_attacks, parse_attack_names, render_attack_text
    from qinglang.scan import tune_gc_for_batch

    with reported():
        names = parse_attack_names(spec)
        engine = make_engine(pack, model=model, mode=mode)
        tune_gc_for_batch()
        report = evaluate_attacks(engine, labeled, names, label_map=label_map, limit=limit)
    if as_json:
        sys.stdout.buffer.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        sys.stdout.write(render_attack_text(report))
    sys.stdout.flush()


def _eval_compare(labeled: str, configs: tuple[str, str], *, flips: int | None, as_json: bool,
                  label_map: str | None, limit: int | None, conflicting: bool) -> None:
    """``eval --compare A B``: each configuration names its own packs/model/mode, so those options conflict."""
    if conflicting:
        fail(errors.BAD_OPTION, "--compare configurations name their own packs, model and mode; "
              "drop --pack/--model/--mode")
    try:
        from qinglang.eval.compare import DEFAULT_JSON_FLIPS, TEXT_FLIPS, compare, render_compare_text
        from qinglang.scan import tune_gc_for_batch
    except ImportError as exc:
        fail(errors.BAD_OPTION, f"evaluation is not available in this installation ({exc})")
    with reported():
        tune_gc_for_batch()
        report = compare(labeled, configs[0], configs[1], label_map=label_map, limit=limit)
    if as_json:
        body = report.to_dict(flips=DEFAULT_JSON_FLIPS if flips is None else flips)
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        sys.stdout.write(render_compare_text(report, flips=TEXT_FLIPS if flips is None else flips))
    sys.stdout.flush()


@app.command()
def train(
    files: Annotated[
        list[str], typer.Argument(help="Labeled training files (.jsonl, .csv or .parquet).")
    ],
    out: Annotated[
        str, typer.Option("-o", "--out", help="Directory to write the model artifact to.")
    ],
    dev: Annotated[
        str | None,
        typer.Option("--dev", help="Separate dev file; default: hold out part of the training rows.",
                     show_default=False),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for the split and the fit.")] = 0,
    name: Annotated[str, typer.Option("--name", help="Model name, stamped on verdicts.")] = "qinglang-clf",
    model_version: Annotated[
        str, typer.Option("--model-version", help="Model version, stamped on verdicts.")
    ] = "dev",
    target_precision: Annotated[
        float,
        typer.Option("--target-precision", min=0.0, max=1.0,
                     help="Precision the per-category thresholds aim for on dev."),
    ] = 0.9,
    label_map: Annotated[
        str | None,
        typer.Option("--label-map", help="YAML map from dataset labels to category codes.",
                     show_default=False),
    ] = None,
) -> None:
    """Train the learned classifier on labeled files and write its artifact and model card."""
    try:
        from qinglang.learn.train import train_main
    except ImportError as exc:
        fail(errors.BAD_OPTION, f"training is not available in this installation ({exc})")
    with reported():
        status = train_main(files, dev, out, seed, name, model_version, target_precision, label_map)
    raise typer.Exit(status)


# --- version ------------------------------------------------------------------------


@app.command()
def version(
    pack: PackOption = None,
    model: ModelOption = "default",
    mode: ModeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print versions as JSON.")] = False,
) -> None:
    """Show the package, engine and policy pack versions (they stamp every verdict)."""
    with reported():
        engine = make_engine(pack, model=model, mode=mode)
    versions = dict(engine.versions)
    from qinglang.text.prescan import speedups

    compiled = speedups()  # not a verdict version: C and Python paths give the same verdicts
    if as_json:
        sys.stdout.buffer.write(
            orjson.dumps({"qinglang": __version__, **versions, "speedups": compiled},
                         option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
        )
        sys.stdout.flush()
        return
    lines = [f"qinglang {__version__}", f"engine   {versions.get('engine', '?')}"]
    packs = versions.get("packs") or {}
    paths = {p.name: p.path for p in getattr(engine, "packs", []) if hasattr(p, "name")}
    for name, ver in sorted(packs.items()):
        where = f"  ({paths[name]})" if name in paths else ""
        lines.append(f"pack     {name}@{ver}{where}")
    for key in sorted(k for k in versions if k not in ("engine", "packs")):
        lines.append(f"{key:<8} {versions[key]}")
    built = [name for name, on in compiled.items() if on]
    lines.append(f"speedups {', '.join(built) if built else 'none (pure Python)'}")
    typer.echo("\n".join(lines))


if __name__ == "__main__":
    main()
