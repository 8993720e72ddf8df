"""``curate export REF_OR_DIR --tokenizer T --format megatron|npy|mds -o DIR``: tokenized shards."""

from __future__ import annotations

import click


@click.command()
@click.argument("dataset")
@click.option(
    "--tokenizer",
    "-t",
    required=True,
    help="A tokenizer.json, a folder holding one, or a Hugging Face Hub name.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["megatron", "npy", "mds"]),
    required=True,
    help="megatron: Megatron-LM indexed dataset (.bin + .idx); npy: flat NumPy token files "
    "with an index of document ends; mds: MosaicML Streaming shards (needs mosaicml-streaming).",
)
@click.option("-o", "--output", required=True, help="Folder to write the shards and manifest to.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the shuffle.")
@click.option(
    "--eos", default=None, help="End-of-sequence token; default the first the tokenizer knows."
)
@click.option(
    "--shard-tokens",
    type=click.IntRange(min=1),
    default=1 << 30,
    show_default=True,
    help="Tokens per shard (a shard ends after the document that reaches it).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Processes that tokenize the input's parts (as curate run); the files are the same "
    "for any number.",
)
@click.option("--text-column", default="text", show_default=True, help="Column holding the text.")
@click.option("--overwrite", is_flag=True, help="Replace what a non-empty output folder holds.")
def export(
    dataset: str,
    tokenizer: str,
    fmt: str,
    output: str,
    seed: int,
    eos: str | None,
    shard_tokens: int,
    workers: int,
    text_column: str,
    overwrite: bool,
) -> None:
    """Tokenize DATASET into shuffled, EOS-separated binary shards for a trainer."""
    from curate.tokens.export import export_tokens

    manifest = export_tokens(
        dataset,
        tokenizer=tokenizer,
        fmt="megatron" if fmt == "megatron" else "mds" if fmt == "mds" else "npy",
        out=output,
        seed=seed,
        eos=eos,
        shard_tokens=shard_tokens,
        workers=workers,
        text_column=text_column,
        overwrite=overwrite,
    )
    shards = sum(1 for f in manifest["files"] if "tokens" in f)
    click.echo(
        f"{manifest['documents']:,} documents, {manifest['tokens']:,} tokens in {shards} "
        f"{fmt} shard(s) -> {output}/manifest.json"
    )
