def test_lecture_first_example(bp):
    r = bp("eval", "(x+y)*z", "--x", "-2", "--y", "5", "--z", "-4", "--format", "plain")
    assert r.code == 0, r.err
    assert r.out == "f\t-12.0\ndf/dx\t-4.0\ndf/dy\t-4.0\ndf/dz\t3.0\n"
