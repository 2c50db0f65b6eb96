"""The Operator wallet fake.

Only the shared control API so far; the wallet routes (SPEC §4) arrive with the wallet issue.
"""

from mock_services.framework import MockService


class OperatorMock(MockService):
    name = "operator"
