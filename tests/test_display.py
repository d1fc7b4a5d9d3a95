import pytest

from workbook.display import show_source, without_todo_boxes


def _sample(x):
    return x + 1


def test_show_source_prints_the_code_outside_ipython(capsys):
    show_source(_sample)
    out = capsys.readouterr().out
    assert out.startswith("# tests.test_display._sample") or "._sample" in out.splitlines()[0]
    assert "return x + 1" in out


def test_show_source_rejects_values():
    with pytest.raises(TypeError, match="functions and classes"):
        show_source(3)


def _solved(x):
    y = None
    ###################################
    # TODO: double x and store it in y #
    #                                 #
    # (the prompt of the kit)         #
    ###################################
    # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    y = 2 * x
    # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
    #########################
    # a box that stays      #
    #########################
    return y


def test_show_source_leaves_out_the_todo_prompts_of_solved_blocks(capsys):
    show_source(_solved)
    out = capsys.readouterr().out
    assert "TODO" not in out and "the prompt of the kit" not in out
    assert "    y = None\n    # *****START OF YOUR CODE" in out and "y = 2 * x" in out
    assert "# a box that stays" in out and out.count("#########################\n") == 2


def test_without_todo_boxes_keeps_comments_that_are_not_a_prompt_box():
    start = "# *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****"
    for source in [f"# TODO: a plain comment\n{start}\n",              # no box
                   f"#####\n# why\n#####\n{start}\n",                  # a box, no TODO
                   f"#####\n# TODO: x\n#####\n\n{start}\n"]:           # not right above
        assert without_todo_boxes(source) == source
