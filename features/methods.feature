Feature: Other methods on the operation's path
  The page defines the operation as PUT. Another method on the same path is not this
  operation: a framework or the gateway answers it (405, 404, a refusal, even a 200), and the
  page says nothing of that answer, so none is a failure. What matters is that it never acts
  on the task: a GET that retried a task would let any prefetching proxy or crawler retry
  upgrades. The task is a real failed one, so this is mutating; whether it acted shows in
  what the task does next (the retry or abort sent after it on the same task is accepted).

  @RUT-METHOD-01
  Scenario Outline: <method> on a failed task's retry path does not retry it
    Given a failed upgrade task
    When I send it with the method <method>
    Then the task is left as it was

    Examples:
      | method |
      | GET    |
      | POST   |
      | DELETE |
      | PATCH  |
      | HEAD   |
      | OPTIONS |
      | TRACE  |
