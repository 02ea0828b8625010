# A guest that dirties its memory at a set rate: a multiboot kernel (QEMU's -kernel loads it,
# libvirt's <os><kernel>), assembled at `lab up` by GNU as and ld (guests.py builds it).
#
# Its command line holds two numbers after the kernel's path (QEMU puts the path first):
#   dirty_pages_per_s=N working_set_pages=W
# At boot it writes every page of the working set (from 16 MiB up), so all of it is memory in use
# that a migration must send in full, and says so with a magic word at READY; then the PIT interrupts it 100 times a second and at each
# tick it writes to the next N/100 pages of the working set in turn (the remainder carried to the
# next tick), halting in between: the rate holds whatever the CPU's speed, and a tick KVM could
# not deliver in time is delivered late (its in-kernel PIT reinjects lost ticks).

        .set MB_MAGIC, 0x1BADB002
        .set MB_FLAGS, 0
        .set WORK_BASE, 0x1000000       # 16 MiB: clear of the kernel, the BIOS and option ROMs
        .set READY, 0xff0000            # a word the lab reads to know the working set is in use
        .set READY_MAGIC, 0x59444552    # "REDY"
        .set PAGE, 4096
        .set HZ, 100
        .set PIT_DIVISOR, 11932         # 1193182 Hz / 11932 = 100.0 Hz
        .set VECTORS, 48                # exceptions and both PICs' remapped IRQs

        .code32
        .text
        .globl _start
        .align 4
        .long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

_start:
        cli
        lgdt gdt_pointer
        ljmp $0x08, $reload
reload:
        mov $0x10, %ax
        mov %ax, %ds
        mov %ax, %es
        mov %ax, %ss
        mov $stack_top, %esp

        # Command line (multiboot info offset 16): skip the kernel's path, then two numbers.
        mov 16(%ebx), %esi
skip_path:
        lodsb
        test %al, %al
        jz parsed
        cmp $' ', %al
        jne skip_path
        call number
        mov %eax, rate
        call number
        mov %eax, pages
parsed:
        # Every page of the working set in use.
        mov $WORK_BASE, %edi
        mov pages, %ecx
        jecxz idt
fill:
        movl $0x5a5a5a5a, (%edi)
        add $PAGE, %edi
        loop fill
        movl $READY_MAGIC, READY

idt:    # Every vector ignores its interrupt but IRQ 0 (vector 0x20), which counts a tick.
        mov $idt_table, %edi
        mov $VECTORS, %ecx
        mov $ignore, %edx
gate:
        cmp $VECTORS - 0x20, %ecx       # %ecx counts down: this is vector 0x20
        mov %edx, %eax
        jne 1f
        mov $tick, %eax
1:      mov %ax, (%edi)
        movw $0x08, 2(%edi)
        movw $0x8e00, 4(%edi)           # present, ring 0, 32-bit interrupt gate
        shr $16, %eax
        mov %ax, 6(%edi)
        add $8, %edi
        loop gate
        lidt idt_pointer

        # PICs: IRQs 0-15 at vectors 0x20-0x2f, all masked but the PIT's.
        mov $0x11, %al
        out %al, $0x20
        out %al, $0xa0
        mov $0x20, %al
        out %al, $0x21
        mov $0x28, %al
        out %al, $0xa1
        mov $0x04, %al
        out %al, $0x21
        mov $0x02, %al
        out %al, $0xa1
        mov $0x01, %al
        out %al, $0x21
        out %al, $0xa1
        mov $0xfe, %al
        out %al, $0x21
        mov $0xff, %al
        out %al, $0xa1

        # PIT channel 0, rate generator at HZ.
        mov $0x34, %al
        out %al, $0x43
        mov $PIT_DIVISOR & 0xff, %al
        out %al, $0x40
        mov $PIT_DIVISOR >> 8, %al
        out %al, $0x40

        xor %ebp, %ebp                  # ticks so far
        xor %ebx, %ebx                  # page-writes owed, times HZ
        xor %edi, %edi                  # next page of the working set
# Interrupts are enabled only while halted here, so a handler never returns: it drops its frame
# and comes back to this loop (no IRET, which some nested KVM set-ups cannot emulate).
idle:
        mov $stack_top, %esp
        sti
        hlt
        jmp idle

tick:
        mov $0x20, %al                  # end of interrupt, to the master PIC
        out %al, $0x20
        inc %ebp
        add rate, %ebx
write:
        cmp $HZ, %ebx
        jb idle
        sub $HZ, %ebx
        cmp pages, %edi
        jb 1f
        xor %edi, %edi
1:      mov %edi, %eax
        shl $12, %eax
        mov %ebp, WORK_BASE(%eax)
        inc %edi
        jmp write

# The next decimal number in the string at %esi (non-digits before it skipped) into %eax; 0 at
# the string's end.
number:
        xor %eax, %eax
1:      movzbl (%esi), %edx
        test %edx, %edx
        jz 3f
        inc %esi
        sub $'0', %edx
        cmp $9, %edx
        ja 1b
2:      imul $10, %eax
        add %edx, %eax
        movzbl (%esi), %edx
        sub $'0', %edx
        cmp $9, %edx
        ja 3f
        inc %esi
        jmp 2b
3:      ret

ignore: jmp idle                        # spurious and unexpected vectors: no EOI

        .align 8
gdt:    .quad 0
        .quad 0x00cf9a000000ffff        # 0x08: flat code
        .quad 0x00cf92000000ffff        # 0x10: flat data
gdt_pointer:
        .word gdt_pointer - gdt - 1
        .long gdt
idt_pointer:
        .word VECTORS * 8 - 1
        .long idt_table
rate:   .long 0
pages:  .long 0

        .bss
        .align 8
idt_table:
        .skip VECTORS * 8
        .skip 4096
stack_top:
