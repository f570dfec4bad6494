Feature: Other methods on the operation's path
  The page defines the operation as PUT. Another method on the same path is not this
  operation: a framework or the gateway answers it (405, 404, or a refusal), which is fine,
  and the rules for the operation's own answers (documented status, error body) do not apply
  to it. It must never act on the task: a GET that retried a task would let any prefetching
  proxy or crawler retry upgrades. The task is a real failed one, so this is mutating.

  @RUT-METHOD-01
  Scenario Outline: <method> on a failed task's retry path does not retry it
    Given a failed upgrade task
    When I send it with the method <method>
    Then the request is rejected

    Examples:
      | method |
      | GET    |
      | POST   |
      | DELETE |
      | PATCH  |
