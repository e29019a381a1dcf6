from .allocator import keep_freed_memory
from .config import (
    DictAction,
    check_config_types,
    load_config,
    replace_annotations,
    set_data_root,
)
from .dist import setup_cpu_distributed
from .errors import (
    ConfigError,
    DataError,
    InputError,
    MissingDataError,
    TrainingError,
    exit_on_input_error,
    last_line,
    make_out_dir,
)
from .progress import ProgressBar, track
from .setup_env import register_all_modules
from .speed import apply_speed_settings, compile_unavailable

__all__ = [
    "apply_speed_settings",
    "compile_unavailable",
    "ConfigError",
    "DictAction",
    "DataError",
    "InputError",
    "MissingDataError",
    "ProgressBar",
    "TrainingError",
    "check_config_types",
    "exit_on_input_error",
    "keep_freed_memory",
    "last_line",
    "load_config",
    "make_out_dir",
    "register_all_modules",
    "replace_annotations",
    "set_data_root",
    "setup_cpu_distributed",
    "track",
]
