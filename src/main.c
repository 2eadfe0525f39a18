#include <stdio.h>
int main(void) { puts("marginfall: skeleton"); return 0; }
