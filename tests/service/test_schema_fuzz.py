"""Property-based requests from the OpenAPI document (schemathesis): no 500, responses match the schema.

Every operation gets a bounded number of generated requests with an admin key
(the one role that reaches every route); each response must be a documented status
with a documented content type and a body that validates against its schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from service_util import settings_for

from qinglang.scan import Detector
from qinglang.service import keys
from qinglang.service.app import create_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
#: examples per operation: enough to reach odd inputs, few enough to finish in seconds
EXAMPLES = 30


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory, detector: Detector) -> Iterator[FastAPI]:
    db = Path(tmp_path_factory.mktemp("fuzz")) / "fuzz.db"
    app = create_app(settings_for(f"sqlite:///{db}", max_batch=50, detect_timeout_s=10), detector=detector)
    state = app.state.service
    with state.sessions() as session, session.begin():
        _, token = keys.create_key(session, secret=state.secret, role="admin", tenant="fuzz", actor="test")
    app.state.fuzz_token = token
    _seed(app, token)
    yield app
    state.detection.close()
    state.db.dispose()


def _seed(app: FastAPI, token: str) -> None:
    """Real rows for the list and show routes to answer with, so their 200 shapes are checked too: posts
    (a case, actions), a decided case, an appeal, registry entries and a cluster."""
    from fastapi.testclient import TestClient
    from work_util import POSTS

    client = TestClient(app)  # no context manager: the app's lifespan stays the fixture's
    h = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/ingest", json={"posts": POSTS}, headers=h).status_code == 200
    csv = "name,licence_type,licence_number\n华泰证券股份有限公司,securities_advisory,Z1001\n"
    client.post("/v1/registry/import", content=csv.encode(), headers={**h, "Content-Type": "text/csv"})
    client.put("/v1/accounts/gangA/binding", json={"entry_id": "securities_advisory:Z1001"}, headers=h)
    case = client.post("/v1/cases/next", headers=h).json()["case"]
    client.post(f"/v1/cases/{case['id']}/decision", json={"decision": "confirm"}, headers=h)
    action = client.get("/v1/accounts/gangB", headers=h).json()["actions"][0]
    client.post("/v1/appeals", json={"action": action["id"], "reason": "fuzz"}, headers=h)
    assert client.post("/v1/clusters/build", headers=h).status_code == 200


def _operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_generated_requests_get_documented_answers(fuzz_app: FastAPI) -> None:
    # schemathesis' pytest plugin does not run under this pytest; its Python API with
    # Hypothesis directly is the same generation and the same checks
    headers = {"Authorization": f"Bearer {fuzz_app.state.fuzz_token}"}
    operations = _operations(fuzz_app)
    assert len(operations) >= 38
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        run()
