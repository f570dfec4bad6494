Feature: retry_mode, the one query parameter
  The page: "Impact of terminating the task. Currently, its value can only be abort."
  Without it a failed task is retried; with "abort" the task is terminated. Any other value,
  or the parameter given twice, is not a request the page describes.

  Value cells are JSON strings, since Gherkin trims cells: "" is empty, " abort" has a
  leading space, "ab" * 3 repeats; `absent` leaves the parameter out; a JSON array gives the
  parameter once per element.

  @RUT-QUERY-01 @RUT-SCOPE-01
  Scenario: A failed task is retried when retry_mode is absent
    Given a failed upgrade task
    When I retry it
    Then the task is retried

  @RUT-QUERY-02 @RUT-SCOPE-01
  Scenario: A failed task is terminated with retry_mode=abort
    Given a failed upgrade task
    When I abort it
    Then the task is aborted

  @RUT-QUERY-01 @RUT-QUERY-02
  Scenario Outline: retry_mode as documented is accepted (<retry_mode>)
    Given a failed upgrade task
    When I retry it with retry_mode <retry_mode>
    Then the task is <outcome>

    Examples:
      | retry_mode | outcome |
      | absent     | retried |
      | "abort"    | aborted |

  @RUT-QUERY-03 @RUT-QUERY-04 @RUT-EFFECT-01
  Scenario Outline: A retry_mode other than exactly "abort" is rejected as invalid (<case>)
    Given a failed upgrade task
    When I retry it with retry_mode <retry_mode>
    Then the request is rejected as invalid

    Examples:
      | case                         | retry_mode     |
      | upper case                   | "ABORT"        |
      | capitalised                  | "Abort"        |
      | empty                        | ""             |
      | leading space                | " abort"       |
      | trailing space               | "abort "       |
      | another word                 | "terminate"    |
      | Cyrillic look-alike a        | "аbort"        |
      | fullwidth look-alike         | "ａｂｏｒｔ"   |
      | 10,000 characters            | "abort" * 2000 |
      | abort with an appended NUL   | "abort%00"     |

  @RUT-QUERY-05 @RUT-QUERY-04 @RUT-EFFECT-01
  Scenario Outline: retry_mode given more than once is rejected as invalid (<case>)
    Given a failed upgrade task
    When I retry it with retry_mode <retry_mode>
    Then the request is rejected as invalid

    Examples:
      | case                  | retry_mode           |
      | abort given twice     | ["abort", "abort"]   |
      | abort, then another   | ["abort", "restart"] |
      | another, then abort   | ["x", "abort"]       |
      | empty, then abort     | ["", "abort"]        |

  @RUT-QUERY-06 @RUT-EFFECT-01
  Scenario Outline: A query parameter the page does not define is ignored or rejected (<name>)
    Given a failed upgrade task
    When I retry it with the unknown query parameter <name>=<value>
    Then the unknown parameter is ignored or the request rejected as invalid

    Examples:
      | name          | value     |
      | "dry_run"     | "true"    |
      | "retry_mode2" | "abort"   |
      | "Retry_Mode"  | "abort"   |
