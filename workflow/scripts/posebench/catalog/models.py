"""The model list (config/models.yaml) and the run settings (config/config.yaml): load, check, select.

Every check here runs before any job does, and every failure is one line naming the file, the
model and the field, so a bad entry never costs a half-finished run.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Dict, List, Optional

import yaml

from posebench.backends.names import config_on_disk

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "schemas"


class CatalogError(Exception):
    """Bad input in a user-facing file; its message is the one line the user sees."""


def load_yaml(path: Path) -> object:
    try:
        with open(path) as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise CatalogError("%s: no such file" % path) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = " line %d" % (mark.line + 1) if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise CatalogError("%s:%s: malformed YAML: %s" % (path, where, problem)) from None


def _field_path(error: "jsonschema.ValidationError") -> str:
    return ".".join(str(part) for part in error.absolute_path) or "(top level)"


def _schema_error_line(error: "jsonschema.ValidationError") -> str:
    if error.validator == "required":
        return "missing required field: %s" % error.message.split("'")[1]
    if error.validator == "additionalProperties":
        return "unknown field: %s" % error.message.split("'")[1]
    if error.validator == "pattern":
        return "%r has characters that are not allowed (allowed: %s)" % (error.instance, error.validator_value)
    return error.message


def check_schema(document: object, schema_name: str, path: Path, describe: Callable) -> None:
    """Validate against workflow/schemas/<schema_name>; raise the first error as one line."""
    import jsonschema  # the driver's; the backend environments import this module without it

    schema = load_yaml(SCHEMA_DIR / schema_name)
    errors = sorted(
        jsonschema.Draft202012Validator(schema).iter_errors(document),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        error = errors[0]
        line = _schema_error_line(error)
        if error.context:  # oneOf: name the wrong item, or say what was expected
            deepest = max(error.context, key=lambda sub: len(sub.relative_path))
            if deepest.relative_path:
                error, line = deepest, _schema_error_line(deepest)
            else:
                line = "%r is not %s" % (error.instance, error.schema.get("description", "valid"))
        raise CatalogError("%s: %s: %s" % (path, describe(error), line))


def _describe_model_field(models: object) -> Callable:
    def describe(error: "jsonschema.ValidationError") -> str:
        parts = list(error.absolute_path)
        if len(parts) >= 2 and parts[0] == "models" and isinstance(models, list):
            entry = models[parts[1]]
            name = entry.get("id") if isinstance(entry, dict) else None
            label = "model %r" % name if isinstance(name, str) else "model entry %d" % (parts[1] + 1)
            field = ".".join(str(p) for p in parts[2:]) or "entry"
            return "%s: field %s" % (label, field)
        return "field %s" % _field_path(error)

    return describe


def load_models(path: Path) -> List[Dict[str, str]]:
    """The checked model list, in file order."""
    document = load_yaml(path)
    models = document.get("models") if isinstance(document, dict) else None
    check_schema(document, "models.schema.yaml", path, _describe_model_field(models))
    seen = set()
    for entry in models:
        if entry["id"] in seen:
            raise CatalogError("%s: model %r: field id: duplicate id" % (path, entry["id"]))
        seen.add(entry["id"])
    return models


def check_config(config: dict, path: Path) -> None:
    check_schema(config, "config.schema.yaml", path, lambda error: "field %s" % _field_path(error))


def apply_backend_override(models: List[Dict[str, str]], backend: Optional[str], path: Path) -> List[Dict[str, str]]:
    """`backend: mmpose0` in config.yaml runs every row from its seed 0.x config."""
    if backend is None:
        return models
    overridden = []
    for entry in models:
        entry = dict(entry)
        if backend == "mmpose0" and entry["backend"] != "mmpose0":
            if "seed_config" not in entry:
                raise CatalogError(
                    "%s: model %r: field seed_config: needed to run it on backend mmpose0" % (path, entry["id"])
                )
            entry["config"] = entry["seed_config"]
        elif backend == "mmpose1" and entry["backend"] != "mmpose1":
            raise CatalogError(
                "%s: model %r: field backend: it has no mmpose1 config; backend: mmpose1 cannot run it"
                % (path, entry["id"])
            )
        entry["backend"] = backend
        overridden.append(entry)
    return overridden


def select_models(models: List[Dict[str, str]], select: List[str], path: Path) -> List[Dict[str, str]]:
    if not select:
        return models
    by_id = {entry["id"]: entry for entry in models}
    unknown = [name for name in select if name not in by_id]
    if unknown:
        raise CatalogError("config: field select: no model with id %s in %s" % (", ".join(map(repr, unknown)), path))
    return [by_id[name] for name in select]


def config_file(entry: Dict[str, str], config_root: Path, workdir: Path) -> Path:
    """A config path starting with ./ or / is the user's own file; any other is in the backend's tree."""
    config = entry["config"]
    if config.startswith(("./", "/")):
        return (workdir / config).resolve()
    return config_root / config


def check_config_files(models: List[Dict[str, str]], config_roots: Dict[str, Path], workdir: Path, path: Path) -> None:
    for entry in models:
        root = config_roots.get(entry["backend"])
        if root is None:
            continue  # that backend's tree is not reachable from here (conda); its resolve job checks
        if not os.path.isfile(config_on_disk(entry["backend"], config_file(entry, root, workdir))):
            raise CatalogError(
                "%s: model %r: field config: %s is not a config file of backend %s (looked in %s)"
                % (path, entry["id"], entry["config"], entry["backend"], root)
            )


def parse_input_size(text: str) -> List[int]:
    """'256x192' -> [256, 192] (height, width)."""
    height, width = text.split("x")
    return [int(height), int(width)]


def timing_devices(requested: object, has_cuda: Optional[bool]) -> List[str]:
    """`auto` is cpu, plus cuda when present; cuda asked for by name must be there. has_cuda is
    None when it cannot be asked here (the jobs run on other machines): the list must be explicit."""
    if requested == "auto":
        if has_cuda is None:
            raise CatalogError(
                "config: field devices: auto needs check_devices; on a cluster list the devices, "
                "e.g. --config devices='[cpu,cuda]' check_devices=false"
            )
        return ["cpu", "cuda"] if has_cuda else ["cpu"]
    if "cuda" in requested and has_cuda is False:
        raise CatalogError("config: field devices: cuda asked for, but this machine has no CUDA device (nvidia-smi finds none)")
    return list(requested)


def retype_strings(value: object) -> object:
    """Snakemake reads nested --config values as strings ('[1, 10]' -> ['1', '10']); read each
    string leaf as YAML again so numbers and null mean what they say."""
    if isinstance(value, dict):
        return {key: retype_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [retype_strings(item) for item in value]
    if isinstance(value, str):
        try:
            return yaml.safe_load(value) if value.strip() else value
        except yaml.YAMLError:
            return value
    return value


def retype_config(config: dict) -> None:
    """In place, all but the fields whose values are names (model ids, paths)."""
    for key in list(config):
        if key not in ("select", "models", "backends", "compare_with"):
            config[key] = retype_strings(config[key])


def other_table(
    compare_with: Optional[str], where: str = "config: field compare_with", missing_ok: bool = False
) -> Optional[str]:
    """The table.csv an earlier run's results/ folder (or the file itself) holds, or None (also
    when it is missing and that is allowed)."""
    if not compare_with:
        return None
    path = Path(compare_with)
    table = path / "table.csv" if path.is_dir() else path
    if not table.is_file() and missing_ok:
        return None
    if not table.is_file():
        raise CatalogError("%s: %s has no table.csv (give a results/ folder or a table.csv)" % (where, path))
    return str(table)


def record_beside(table: str, name: str) -> Optional[str]:
    """A record of the run whose table.csv this is (its measurements.csv, its environment.json),
    where it kept one (the seed has none)."""
    found = Path(table).parent / name
    return str(found) if found.is_file() else None
