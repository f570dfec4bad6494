Feature: Response bodies
  The page: "Response Parameters: None" and "Example Responses: None", so a 200 has no body.
  Errors carry the vendor's error body, {"error_code": "CSS.0001", "error_msg": "..."}.

  @RUT-RESP-01
  Scenario: A successful retry has no body
    Given a failed upgrade task
    When I retry it
    Then the response has no body

  @RUT-RESP-01
  Scenario: A successful abort has no body
    Given a failed upgrade task
    When I abort it
    Then the response has no body

  @RUT-ERR-01 @RUT-ERR-02
  Scenario Outline: A rejection carries the error body (<case>)
    Given <setup>
    When <action>
    Then the response carries the error body

    Examples:
      | case                | setup                                  | action                                        |
      | invalid retry_mode  | a failed upgrade task                  | I retry it with retry_mode "ABORT"            |
      | malformed action_id | an unknown upgrade task                | I retry it with the action_id set to "x y"    |
      | unknown cluster     | an upgrade task of an unknown cluster  | I retry it                                    |
      | unknown task        | an unknown upgrade task                | I abort it                                    |
      | another account     | an upgrade task in the project of another account | I retry it                         |

  @RUT-ERR-01 @RUT-ERR-02
  Scenario: A refusal for missing credentials carries the error body
    Given an unknown upgrade task
    And I send no credentials
    When I retry it
    Then the response carries the error body
