"""Posts in, results out: streaming readers, record validation and writers.

``read_records`` yields ``(record_no, mapping | QLError)``; ``post_from_mapping``
turns a mapping into a validated :class:`~qinglang.model.Post`; ``open_writer``
writes verdicts and error records in the documented shape (docs/verdict-schema.md).
"""

from qinglang.io.readers import FORMATS, Record, detect_format, read_records
from qinglang.io.records import DEFAULT_MAX_TEXT_CHARS, KNOWN_FIELDS, post_from_mapping
from qinglang.io.writers import Writer, open_writer, output_format

__all__ = [
    "DEFAULT_MAX_TEXT_CHARS",
    "FORMATS",
    "KNOWN_FIELDS",
    "Record",
    "Writer",
    "detect_format",
    "open_writer",
    "output_format",
    "post_from_mapping",
    "read_records",
]
